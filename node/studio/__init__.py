"""``mesh-art studio``: the artists' and curator's local web app (keys, endorsements, publishing).

It runs on the artist's or curator's own laptop, listens on 127.0.0.1 only (unless told
otherwise), and keeps everything on that machine except a bundle the user sends to a node.
"""
