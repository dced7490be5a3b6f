"""Camera simulator: a tower facade seen from the ground, thrown objects with real physics, and distractors."""
