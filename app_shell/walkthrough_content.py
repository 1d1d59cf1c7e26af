"""The guided walkthrough's content: paths, steps, questions and feedback.

Pure content, no Streamlit: the walkthrough page reads it and draws each step's ``view``
(its live figure and control). Texts may hold ``{name:fmt}`` placeholders filled with
numbers the app computes from the data (``teaching.walkthrough_numbers.walkthrough_facts``), so the
text always agrees with the figure. Every wrong option has its own explanation pointing
at what to look at in the figure.

The sleep study path follows the seed material's sequence: one regression, day means, one
regression per subject, random intercept, random slope, both, the shrinkage map, when
shrinkage is strong, predictions, and how it is all estimated. GPA and iris have shorter
paths of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Question:
    """One multiple-choice check. ``wrong`` maps every wrong option to its explanation."""

    prompt: str
    answer: str
    right: str
    wrong: dict[str, str]
    order: tuple[int, ...] = ()  # display order of [answer, *wrong]; empty = answer first

    @property
    def options(self) -> list[str]:
        everything = [self.answer, *self.wrong]
        if not self.order:
            return everything
        return [everything[i] for i in self.order]

    def feedback(self, choice: str | None) -> tuple[bool, str] | None:
        """(right?, explanation) for a chosen option; None when nothing is chosen yet."""
        if choice is None:
            return None
        if choice == self.answer:
            return True, self.right
        return False, self.wrong.get(choice, "That is not one of the options.")


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    text: str
    view: str  # which figure and control the page draws
    look_for: str = ""
    formula: str = ""  # LaTeX, shown in an expander
    question: Question | None = None


@dataclass(frozen=True)
class Path:
    key: str
    title: str
    short: str  # the path's name on its button
    data: str  # the data set the path always uses, whatever the sidebar says
    blurb: str
    steps: tuple[Step, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return len(self.steps)


# -- the sleep study -----------------------------------------------------------------------
SLEEP = Path(
    key="sleepstudy", title="Sleep study: the whole story", short="Sleep study", data="sleepstudy",
    blurb="Ten steps from one regression line to a mixed model with random intercepts and slopes.",
    steps=(
        Step(
            key="complete", title="One line for everyone", view="one_line",
            text=(
                "The quickest analysis treats the 180 reaction times as if they came from 180 different "
                "people and fits a single straight line. It starts at **{cp_intercept:.1f} ms** on day 0 and "
                "rises by **{cp_slope:.2f} ms per day**.\n\n"
                "But there are only 18 people, each measured on 10 days. Switch on *join each subject's "
                "points*: every subject follows a path of their own, some above the line the whole time, "
                "some below. The single line cannot see any of this. This is **complete pooling**: the "
                "subjects are thrown into one pool."
            ),
            look_for="Subjects whose joined-up points never cross the orange line.",
            formula=r"\text{Reaction}_{ij} = \beta_0 + \beta_1\,\text{Days}_{ij} + \varepsilon_{ij}",
            question=Question(
                prompt="What does complete pooling assume about the 18 subjects?",
                answer="They all share one starting level and one rate of slowing down.",
                right="Exactly: one intercept and one slope for everybody, so differences between "
                      "subjects end up in the residuals.",
                wrong={
                    "Each subject gets a line, and the lines are averaged at the end.":
                        "That would be one regression per subject followed by averaging (step 3). The figure "
                        "has a single orange line, fitted to all points at once.",
                    "Subjects with more measurements get their own line.":
                        "Nobody gets their own line here. Join each subject's points: the paths differ, "
                        "the orange line is the same for all of them.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="day_means", title="Averaging per day", view="day_means",
            text=(
                "Another shortcut: average the 18 reaction times of each day and draw the line through "
                "the 10 means. Because every subject was tested on every day, it is **the same line** as "
                "before. What changes is how sure it looks: the standard error of the slope falls from "
                "{cp_se:.2f} to {means_se:.2f} ms/day and R² climbs to {means_r2:.2f}.\n\n"
                "Nothing was learnt: averaging hid how much the subjects differ (the bars show that "
                "spread, still there) and still says nothing about any one subject."
            ),
            look_for="The long bars around each day's mean, and the table: same line, different certainty.",
            question=Question(
                prompt="The line through the day means has a much smaller standard error. Should you trust it more?",
                answer="No: averaging hides the differences between subjects; the spread (the bars) is still there.",
                right="Right. The means are smooth because the subject-to-subject spread was averaged away, "
                      "not because the data became more precise.",
                wrong={
                    "Yes: it is a different, better line because it uses cleaner data.":
                        "Look at the table under the figure: intercept and slope are identical to the "
                        "one-line fit. Only the claimed precision changed.",
                    "Yes: ten points are always more reliable than 180.":
                        "Fewer points do not carry more information. The bars in the figure show how far "
                        "subjects scatter around each day's mean; that spread has not gone away.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="no_pooling", title="One regression per subject", view="no_pooling",
            text=(
                "The opposite extreme: a separate regression for each subject (blue, dotted). With all "
                "ten days these lines follow each subject closely. This is **no pooling**: each subject "
                "is analysed as if the other 17 did not exist.\n\n"
                "Now move the slider to keep only each subject's first few days. The hollow points were "
                "held back. With two or three points, many blue lines swing far off and miss the hidden "
                "days: each line chases the noise of its few points. That is overfitting, and it is worst "
                "for the subjects with the least data."
            ),
            look_for="With 3 days kept: blue lines that shoot above or below the hollow points.",
            formula=r"\text{Reaction}_{ij} = \beta_{0i} + \beta_{1i}\,\text{Days}_{ij} + \varepsilon_{ij}"
                    r"\quad\text{(each subject on its own)}",
            question=Question(
                prompt="With only 3 days per subject, why do many blue lines miss the hollow points?",
                answer="Three noisy points cannot pin down a slope, so each line follows their noise.",
                right="Yes. A subject's own line is only as good as its data; with few points it overfits.",
                wrong={
                    "The subjects really changed after day 3.":
                        "Slide back to 10 days: the full-data lines run through the hollow points. The "
                        "subjects did not change; the estimates from 3 points were just unreliable.",
                    "The orange line pulls the blue lines away.":
                        "With no pooling every subject is fitted alone; the orange line has no influence "
                        "on the blue ones.",
                },
                order=(1, 2, 0),
            ),
        ),
        Step(
            key="random_intercept", title="A random intercept", view="random_intercept",
            text=(
                "The middle road: every subject gets **their own starting level** (intercept), but the "
                "starting levels are assumed to come from one normal distribution around the **fixed "
                "intercept**. All subjects share one slope, so the purple lines are parallel.\n\n"
                "The model estimates the fixed effects ({ri_b0:.1f} ms and {ri_b1:.2f} ms/day), the SD of "
                "the starting levels (**{ri_tau:.1f} ms**) and the residual SD ({ri_sigma:.1f} ms). A "
                "subject's **random effect** is how far its intercept sits from the fixed one, pulled a "
                "little towards it: here by {ri_pull:.0%}, the same for all subjects because each has 10 days."
            ),
            look_for="Pick a subject: fixed intercept + random effect = its purple line's start.",
            formula=r"\text{Reaction}_{ij} = (\beta_0 + b_{0i}) + \beta_1\,\text{Days}_{ij} + \varepsilon_{ij},"
                    r"\quad b_{0i} \sim N(0, \tau^2)",
            question=Question(
                prompt="For the subject you picked, what is its random effect?",
                answer="The distance of its intercept from the fixed intercept, after being pulled towards it.",
                right="Right: fixed intercept + random effect gives the subject's intercept (its purple line), "
                      "and that sits a bit closer to the fixed intercept than the subject's own intercept (no "
                      "pooling for this model: its own intercept with the slope shared by all).",
                wrong={
                    "Its intercept from a regression on its own data alone.":
                        "Compare the numbers under the figure: the subject's own intercept (no pooling) is another "
                        "number. The random effect is a deviation from the fixed intercept, and a shrunk one.",
                    "A random number, drawn again each time the model is fitted.":
                        "Fit the model twice and you get the same number. It is the model's best guess of "
                        "this subject's deviation; 'random' refers to treating subjects as a sample from a population.",
                },
                order=(1, 2, 0),
            ),
        ),
        Step(
            key="random_slope", title="A random slope only", view="random_slope",
            text=(
                "Swap roles: now everybody shares **one starting level**, and each subject has **their own "
                "rate of slowing down**. The slopes vary around {rs_b1:.2f} ms/day with an SD of "
                "**{rs_sd:.2f} ms/day**.\n\n"
                "All purple lines now fan out from one point at day 0. No pooling that matches this model "
                "(the blue lines) shares that start too and gives each subject only its own slope. For "
                "subjects whose points start far above or below the shared start, one common start is a poor "
                "fit, and their slope has to make up for it: compare the points at day 0 with the lines."
            ),
            look_for="The fan of purple lines from one point at day 0.",
            formula=r"\text{Reaction}_{ij} = \beta_0 + (\beta_1 + b_{1i})\,\text{Days}_{ij} + \varepsilon_{ij},"
                    r"\quad b_{1i} \sim N(0, \sigma_b^2)",
            question=Question(
                prompt="In this model, what do all subjects share?",
                answer="The intercept: every purple line starts at the same reaction time on day 0.",
                right="Yes. Only the slope varies from subject to subject.",
                wrong={
                    "The slope: all purple lines are parallel.":
                        "Look at the purple lines: they fan out from one point, so the slopes differ and the "
                        "start is shared.",
                    "Nothing: each subject has its own line, as with no pooling.":
                        "Look at day 0: every purple line starts at the same height. With no pooling each "
                        "subject would have its own start and slope (the walkthrough's step 3).",
                },
                order=(2, 0, 1),
            ),
        ),
        Step(
            key="both", title="Random intercept and slope", view="both",
            text=(
                "Now each subject gets **both** their own start and their own slope. The pair of deviations "
                "comes from a two-dimensional normal distribution with SDs **{both_sd0:.1f} ms** and "
                "**{both_sd1:.2f} ms/day** and a correlation of **{both_corr:.2f}**.\n\n"
                "A correlation near zero means a subject's starting level says little about how fast they "
                "slow down. Switch to the uncorrelated model, which fixes it at zero: the lines hardly move."
            ),
            look_for="Switching between correlated and uncorrelated barely changes the purple lines.",
            formula=r"\text{Reaction}_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,\text{Days}_{ij} + "
                    r"\varepsilon_{ij},\quad (b_{0i}, b_{1i}) \sim N(0, \Sigma)",
            question=Question(
                prompt="What does the correlation of the random intercepts and slopes tell you here?",
                answer="A subject's starting level says almost nothing about how fast they slow down.",
                right="Right: it describes how the subjects' deviations go together, and here they barely do.",
                wrong={
                    "Reaction time hardly depends on the number of days.":
                        "That would be about the fixed slope, which is clearly positive: nearly every purple "
                        "line rises. The correlation is between subjects' intercept and slope deviations.",
                    "The fit failed: a correlation should be close to 1.":
                        "Nothing failed; switch to the uncorrelated model and the lines stay put. A small "
                        "correlation is a finding, not an error.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="map", title="The shrinkage map", view="map",
            text=(
                "Each subject is a point in the plane of intercept and slope. Blue: the subject's own "
                "regression. Purple: the mixed model. The arrow between them is **shrinkage**, and it points "
                "inwards, towards the star (the fixed effects). The rings show where the model expects "
                "subjects to fall.\n\n"
                "Because every estimate is pulled in, the purple points are less spread out than the model's "
                "own distribution: the estimated intercept deviations have an SD of {modes_sd0:.1f} ms, "
                "while the model's intercept SD is {both_sd0:.1f} ms."
            ),
            look_for="Subjects far from the star move most; the purple cloud is tighter than the blue one.",
            question=Question(
                prompt="Why do the 18 estimated random intercepts vary less than the model's intercept SD says?",
                answer="Each estimate is pulled towards the centre, so together they spread less than the population.",
                right="Yes. The variance component describes subjects in general; the estimated random effects "
                      "are shrunk, so their spread is smaller by construction.",
                wrong={
                    "It is a rounding or calculation error; the two should be equal.":
                        "It is no error. Every arrow in the figure points inwards, so the purple points end up "
                        "closer together than the subjects they stand for.",
                    "It is chance: with another 18 subjects it could just as well be larger.":
                        "Chance works in both directions, shrinkage only in one: the arrows all point "
                        "inwards, so the spread of the estimates comes out smaller.",
                },
                order=(2, 0, 1),
            ),
        ),
        Step(
            key="strength", title="When is shrinkage strong?", view="strength",
            text=(
                "How far an estimate is pulled depends on two things: **how much data the group has** and "
                "**how much groups really differ** compared with the noise. Here 40 groups are simulated "
                "like the GPA students, so the truth (green rings) is known.\n\n"
                "Use the sliders. Few observations per group or little variance between groups: long "
                "arrows, groups pulled close to the star. Many observations or a large variance: the model "
                "trusts each group's own data and the arrows shrink."
            ),
            look_for="The arrow lengths, and the 'weight on own data' numbers, as you move the sliders.",
            formula=r"\text{random intercept: }\hat b_j = \lambda_j(\bar y_j - \bar x_j'\hat\beta),"
                    r"\quad \lambda_j = \frac{\tau^2}{\tau^2 + \sigma^2/n_j}",
            question=Question(
                prompt="Which change makes the arrows longer (more shrinkage)?",
                answer="Fewer observations per group, or a smaller variance between groups.",
                right="Right: λ = τ²/(τ² + σ²/n) falls when n or τ² falls, and a small λ means a strong "
                      "pull.",
                wrong={
                    "More observations per group.":
                        "Try it: move the observations slider up to 20. The arrows almost vanish, because a "
                        "group with many points can speak for itself.",
                    "A larger variance between groups.":
                        "Move the variance slider up: groups then really are different, the model believes "
                        "their own data more, and the arrows get shorter.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="predictions", title="Predictions for three kinds of subject", view="predictions",
            text=(
                "The model can predict for three kinds of subject:\n\n"
                "- **one in the data**: fixed effects plus its own random effects (purple);\n"
                "- **a new subject** with no data yet: its random effects are unknown, so their best "
                "guess is zero and only the **fixed effects** remain (light blue, dashed), with a wide band "
                "because subjects differ;\n"
                "- **a partly observed subject**: a few points give a shrunk estimate in between (green).\n\n"
                "Move the slider to give the partly observed version of subject {pred_subject} more days."
            ),
            look_for="The green line moving from the blue one towards the purple one as days are added.",
            question=Question(
                prompt="A new subject joins but has not been tested yet. What does the model predict for them?",
                answer="The population line: the fixed effects only, with a wide band for how much subjects differ.",
                right="Right: without data its random effects are estimated as 0, their mean.",
                wrong={
                    "The line of the most similar subject in the data.":
                        "The model knows nothing about the new subject to find a similar one. Look at the "
                        "light blue dashed line: it is the fixed-effects line.",
                    "Nothing: a mixed model cannot predict for a subject it has not seen.":
                        "It can: the light blue dashed line is that prediction. The band around it is wide because "
                        "the new subject could be anywhere in the population's distribution.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="estimation", title="How fixed and random effects are estimated together", view="estimation",
            text=(
                "How does one fit give both fixed and random effects? For any value of θ (the SD between "
                "subjects, relative to the residual SD) the fixed effects and all the random effects come "
                "out of **one** least-squares problem with a penalty that keeps the random effects small. "
                "Fitting the model means choosing θ: the value with the lowest REML criterion (the star).\n\n"
                "Move θ. At **θ = 0** the penalty is infinite and every subject sits on the fixed intercept: "
                "complete pooling. As θ grows, the penalty fades and the subjects move to their own "
                "intercepts: no pooling. The shaded band shows the θ values the data cannot rule out."
            ),
            look_for="The purple diamonds sliding between the dashed line (θ = 0) and the blue dots (large θ).",
            formula=r"\min_{\beta, u}\ \lVert y - X\beta - Z\Lambda_\theta u\rVert^2 + \lVert u\rVert^2,"
                    r"\quad b = \Lambda_\theta u",
            question=Question(
                prompt="Set θ to 0. What do you see, and why?",
                answer="Every subject sits on the fixed intercept: no variance between subjects means complete "
                       "pooling.",
                right="Right. A variance component of zero says subjects do not differ, so nothing is left for "
                      "their random effects to describe.",
                wrong={
                    "Each subject sits on its own intercept: that is no pooling.":
                        "Look at the right panel at θ = 0: the purple diamonds are all on the dashed line. Their "
                        "own intercepts (blue) are reached only when θ is large.",
                    "The fixed intercept jumps to zero.":
                        "The dashed line stays near 251 ms. It is the subjects' deviations that become zero, "
                        "not the fixed effect.",
                },
                order=(1, 0, 2),
            ),
        ),
    ),
)

# -- GPA -----------------------------------------------------------------------------------
GPA = Path(
    key="gpa", title="GPA: random slopes for 200 students", short="GPA", data="gpa",
    blurb="Four steps on random slopes, and how the mixed model compares to 200 separate regressions.",
    steps=(
        Step(
            key="model", title="Each student their own trend", view="gpa_facets",
            text=(
                "Grades rise by **{b1:.3f}** points per semester on average, from **{b0:.2f}** in the first "
                "semester. But students differ in both: the model `gpa ~ occasion + (1 + occasion | student)` "
                "gives starting levels an SD of **{sd0:.3f}** and trends an SD of **{sd1:.3f}** per semester, "
                "with a correlation of {corr:.2f} (students who start low improve a little faster).\n\n"
                "The trend's SD may look small, but it is more than half of the average trend itself."
            ),
            look_for="Students whose purple line is much flatter or steeper than the orange line for everyone.",
            formula=r"\text{gpa}_{ij} = (\beta_0 + b_{0i}) + (\beta_1 + b_{1i})\,\text{occasion}_{ij}"
                    r" + \varepsilon_{ij}",
            question=Question(
                prompt="Average trend {b1:.3f}, SD of trends {sd1:.3f}. Where do most students' trends lie?",
                answer="Roughly between {lo:.2f} and {hi:.2f}: from about flat to about twice the average.",
                right="Yes: about 95% of a normal distribution lies within 2 SDs of its mean.",
                wrong={
                    "All students improve by exactly {b1:.3f} per semester.":
                        "That is the fixed effect, the average. The purple lines in the panels have different "
                        "slopes: the SD of {sd1:.3f} says how different.",
                    "Between {b1:.3f} ± 0.01, since 200 students make the estimate very precise.":
                        "That confuses the precision of the average with the spread of students. Many "
                        "students pin the average down, but the panels show trends that really differ.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="lines", title="All 200 lines at once", view="gpa_lines",
            text=(
                "Switch between each student's own regression and the mixed model. On their own, "
                "**{neg_none}** students get a falling line; in the mixed model only **{neg_partial}** do. "
                "Six grades are not much to estimate a trend from, so own trends are noisy; the mixed model "
                "pulls each towards the clearly positive average."
            ),
            look_for="How much tighter the bundle of lines is under the mixed model.",
            question=Question(
                prompt="Why do far fewer students have a falling line in the mixed model?",
                answer="Six grades give noisy trends; the model pulls them towards the positive average.",
                right="Right: shrinkage removes much of the noise, and with it most of the spurious falls.",
                wrong={
                    "The mixed model does not allow negative slopes.":
                        "It does: a few purple lines still fall. It only pulls slopes towards the average.",
                    "Students with falling grades are left out of the mixed model.":
                        "All 200 students are in both pictures; count the lines. Their slopes just moved inwards.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="many_regressions", title="Comparison to many regressions", view="gpa_distributions",
            text=(
                "The distributions of the 200 intercepts and slopes, from separate regressions (blue) and "
                "from the mixed model (purple). The mixed model's tails are pulled in towards the overall "
                "effect. Keep fewer semesters per student with the slider: separate regressions scatter "
                "more, and the mixed model pulls harder."
            ),
            look_for="The purple violins are narrower than the blue ones, more so with fewer semesters.",
            question=Question(
                prompt="What does the mixed model do to the extreme students?",
                answer="Pulls them towards the overall effect, so the distribution's tails shrink.",
                right="Yes: that regularisation protects against overfitting each student.",
                wrong={
                    "Pushes them further out, to make differences clearer.":
                        "Compare the violins: the purple ones are narrower, not wider.",
                    "Leaves them alone; only average students are changed.":
                        "The extremes move most: look at the ends of the violins, where purple stops well "
                        "before blue.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="gpa_map", title="The shrinkage map for 200 students", view="gpa_map",
            text=(
                "Every student as an arrow from their own estimate (blue) to the mixed model's (purple). With six "
                "grades each, the model gives a student's own data a weight of about {w0:.2f} for the intercept "
                "and {w1:.2f} for the slope; measured along the arrows, intercepts are pulled {pull0:.0%} and "
                "slopes {pull1:.0%} of the way in, on average.\n\n"
                "Not every arrow aims straight at the star: the pull is strongest in the direction the "
                "student's own six grades say least about. Pick a student to see their arrow."
            ),
            look_for="Arrows that do not aim straight at the star.",
        ),
    ),
)

# -- iris ----------------------------------------------------------------------------------
IRIS = Path(
    key="iris", title="Iris: what three groups can and cannot tell you", short="Iris", data="iris",
    blurb="Three steps on a mixed model with only three groups.",
    steps=(
        Step(
            key="three_species", title="Three species, three lines", view="iris_facets",
            text=(
                "Petal width is modelled from sepal width and length, with an intercept and a sepal-length "
                "slope for each species: `Petal.Width ~ Sepal.Width + Sepal.Length + (1 + Sepal.Length | "
                "Species)`. The lines hold sepal width at its mean.\n\n"
                "Each species has 50 flowers, so the pull towards the fixed effects is mild: setosa's "
                "sepal-length slope moves from its own {setosa_own_slope:.3f} to {setosa_mixed_slope:.3f}, "
                "{setosa_slope_pull:.0%} of the way to the fixed slope {b_len:.3f}. No pooling here means one "
                "intercept and one sepal-length slope per species, with the sepal-width effect shared, as in "
                "the mixed model ({width_own:.3f} without pooling, {b_width:.3f} in the mixed model).\n\n"
                "The orange line is the odd one out: one line for all 150 flowers rises {cp_slope:.2f} cm per cm "
                "of sepal length, several times steeper than any species' own line."
            ),
            look_for="In each panel the blue and purple lines nearly overlap; the orange one is much steeper.",
            question=Question(
                prompt="Why is the orange line (one line for all flowers) so much steeper than the species' lines?",
                answer="Between species, longer sepals go with much wider petals; within a species the link is weak, "
                       "and one line for all mixes the two.",
                right="Right: the steep orange slope comes from the differences between species, not from "
                      "flowers within a species. That is why grouping matters.",
                wrong={
                    "Because the mixed model pulls the species' slopes towards zero.":
                        "The mixed model pulls slopes towards the fixed slope {b_len:.3f}, and only mildly "
                        "({setosa_slope_pull:.0%} of the way for setosa). The blue lines, fitted without any "
                        "pooling, are just as flat.",
                    "Because 50 flowers per species are too few for a reliable line.":
                        "50 flowers pin a species' line down well: the blue and purple lines nearly agree. The "
                        "orange line is steep because it ignores the species.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="by_hand", title="Fixed + random = coef, by hand", view="iris_by_hand",
            text=(
                "A species' coefficients are the fixed effects plus that species' random effects. For "
                "setosa the intercept is {b0:.4f} + ({setosa_b0:.4f}) = **{setosa_coef0:.4f}** and the "
                "sepal-length slope {b_len:.4f} + ({setosa_b_len:.4f}) = **{setosa_coef_len:.4f}**. Sepal "
                "width has no random part, so all species share its fixed effect. Pick a species to check "
                "its sums."
            ),
            look_for="In the table: the 'fixed + random' column equals the 'coef' column.",
            question=Question(
                prompt="Why is setosa's Sepal.Width coefficient the same as the fixed effect?",
                answer="Sepal.Width has no random part, so every species shares its fixed effect.",
                right="Right: only terms inside (… | Species) get a random effect per species.",
                wrong={
                    "Setosa happens to be an average species.":
                        "Pick another species: its Sepal.Width coefficient is the same too. It is the "
                        "model, not setosa.",
                    "coef() only ever changes the intercept.":
                        "Look at the Sepal.Length row in the table: it changes by species as well, because "
                        "it has a random slope.",
                },
                order=(1, 0, 2),
            ),
        ),
        Step(
            key="three_groups", title="What three groups can and cannot tell you", view="iris_estimation",
            text=(
                "The lines of the three species are well determined, but the **variance between species** "
                "rests on only three numbers. In a random-intercept model, the criterion (left) is nearly "
                "flat over a wide range of θ: the shaded band, every θ the data cannot rule out, runs from "
                "{theta_lo:.1f} to {theta_hi}.\n\n"
                "So the model cannot say how different a fourth species would be. With so few groups, "
                "treating species as a fixed effect is often the honest choice."
            ),
            look_for="The wide shaded band, and how little the three intercepts move within it.",
            question=Question(
                prompt="What can three species tell you reliably?",
                answer="Each species' own line, but not how much species differ in general.",
                right="Right: 50 flowers pin down each line; 3 species cannot pin down a variance.",
                wrong={
                    "The variance between species, as precisely as the fixed effects.":
                        "Look at the shaded band in the left panel: the plausible θ values span a range "
                        "many times wider than the fitted value.",
                    "Nothing: a mixed model cannot be fitted to three groups.":
                        "It can be fitted (the star marks its θ) and its lines are fine; only the "
                        "between-species variance is poorly known.",
                },
                order=(1, 0, 2),
            ),
        ),
    ),
)

PATHS: dict[str, Path] = {p.key: p for p in (SLEEP, GPA, IRIS)}


class _Missing(dict):
    """format_map helper: an unknown placeholder stays visible instead of raising."""

    def __missing__(self, key):
        return "{" + key + "}"


def fill(text: str, facts: dict) -> str:
    """The text with its placeholders filled from ``facts`` (unknown ones left as they are)."""
    try:
        return text.format_map(_Missing(facts))
    except (ValueError, KeyError, IndexError):
        return text


def filled_question(question: Question, facts: dict) -> Question:
    """The question with numbers filled in everywhere (prompt, options, explanations)."""
    return Question(
        prompt=fill(question.prompt, facts), answer=fill(question.answer, facts), right=fill(question.right, facts),
        wrong={fill(k, facts): fill(v, facts) for k, v in question.wrong.items()}, order=question.order,
    )
