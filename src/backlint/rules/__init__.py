"""The rule catalog: one module per rule, grouped in folders by family."""
