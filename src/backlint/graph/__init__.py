"""``backlint graph``: the import graph, its cycles and its layers, as data and pictures.

``model`` holds the graph (nodes, edges, cycles) and ``build`` makes it from the
project index; ``fold`` (packages, focus, cycles only) turns one graph into another;
``render_*`` write it as JSON, DOT, Mermaid or SVG; ``usecase`` joins them for the CLI.
Nothing here imports or runs the analysed code.
"""
