"""Call recordings and generated prompts: storage layout, retention, audio conversion."""
