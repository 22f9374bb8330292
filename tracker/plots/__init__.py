"""Static pictures (one module per plot kind) and the layers the animation shares with them."""
