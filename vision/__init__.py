"""High-altitude littering detection: motion, tracking, falling-object classification, floor estimate, evidence."""
