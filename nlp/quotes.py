QUOTES_VERSION="q1"
def extract_quotes(text, mentions, watchlist):
    return []
