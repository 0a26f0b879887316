"""Policy: the one access decision (pure), the profession × document-type matrix, the gate every
space endpoint goes through, and who is told of what happens in a space."""
