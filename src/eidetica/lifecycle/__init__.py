"""What happens to memory over time: statements that stop holding, and what depends on them."""
