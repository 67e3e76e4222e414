"""The general assembly: the board proposes, members vote, the count decides."""
