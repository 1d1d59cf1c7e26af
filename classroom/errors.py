"""What can go wrong in class mode, in words a student or instructor can act on."""


class ClassError(Exception):
    """Base class; ``str(error)`` is a plain sentence meant for the screen."""


class ClassNotFound(ClassError):
    def __init__(self, message: str = "No open class has this code. Check the code on the projector; "
                                      "a class ends 12 hours after it started."):
        super().__init__(message)


class NotAllowed(ClassError):
    def __init__(self, message: str = "Only the instructor of this class can do that."):
        super().__init__(message)


class ClassClosed(ClassError):
    def __init__(self, message: str = "This class or question no longer takes answers."):
        super().__init__(message)


class RateLimited(ClassError):
    def __init__(self, message: str = "Too many submissions in a short time: wait a few seconds and try again."):
        super().__init__(message)


class InvalidSubmission(ClassError):
    pass
