"""teaching: the computations the app teaches with, built on the engine's public API.

- ``pooling``: complete, no and partial pooling of grouped data, side by side;
- ``shrinkage``: why partial-pooling estimates move towards the population (λ, the pull);
- ``simulate`` and ``lab``: data with a known truth, and the Shrinkage lab's experiments;
- ``predictions``: predictions of three kinds and the hold-out test;
- ``anatomy``: a fit taken apart (X and Z, the criterion over θ, Henderson's equations);
- ``selection``: which groups to show, and the observations behind a result;
- ``walkthrough_numbers``: the numbers the guided walkthrough and the exercises ask for;
- ``cli``: ``python -m teaching pool``.

Pure numerics like the engine: numpy, scipy, pandas, and ``lmm_core``'s public API only.
No Streamlit, no Plotly.
"""
