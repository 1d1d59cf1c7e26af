"""What the end-to-end tests cover: the app's pages and data sets."""

# url path -> page file; "" is the default page (Streamlit serves it at the root URL).
PAGES = {
    "welcome": "home.py",
    "walkthrough": "walkthrough.py",
    "": "three_ways.py",
    "shrinkage-map": "shrinkage_map.py",
    "lab": "lab.py",
    "less-data": "thinning.py",
    "how-it-is-fitted": "fitting.py",
    "predictions": "predictions.py",
    "your-model": "your_model.py",
    "exercises": "exercises.py",
}
DATASETS = ["sleepstudy", "gpa", "iris"]
