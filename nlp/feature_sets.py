"""The classifiers' feature-set names, kept apart from ``nlp.features`` so the command line can
offer them without importing scikit-learn (which takes about a second)."""

FEATURE_SETS = ("tfidf", "static", "tfidf+static", "minilm", "tfidf+minilm")
# Best in 5-fold CV of the light, offline sets (docs/classifiers.md).
DEFAULT_FEATURES = "tfidf+static"
