"""The engine's own error types: every bad input ends in one of these."""


class LmmError(ValueError):
    """Base class: a problem with the model or the data, explained in plain words."""


class FormulaError(LmmError):
    """The formula cannot be read. ``position`` is the 0-based character index, if known."""

    def __init__(self, message: str, formula: str = "", position: int | None = None):
        self.formula = formula
        self.position = position
        self.plain_message = message
        text = message
        if formula and position is not None:
            text = f"{message}\n  {formula}\n  {' ' * position}^"
        super().__init__(text)


class DataError(LmmError):
    """The data cannot support the model: missing columns, wrong types, too few levels..."""


class FitError(LmmError):
    """The numerical fit failed (should be rare: the criterion is evaluated safely)."""
