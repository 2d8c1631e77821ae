"""Theme models: estimators with fit / predict_proba over raw texts, and their model directories."""
