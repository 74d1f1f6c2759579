"""The portal's pages by area; ``agents.urls`` maps addresses to them."""
