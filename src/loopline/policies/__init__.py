"""Decision policies: rules that turn model outputs into business actions."""
