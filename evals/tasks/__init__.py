"""Tasks with a gold end state: instructions in plain words ("Move 500 euros from my EUR
account to my checking account") drawn from the bank's state by a seed, each with the change
of state the bank's own rules give it, and the grading of what an agent then did.

``kinds`` holds what every kind of task is made of and ``money``, ``trades`` and
``refusals`` the kinds themselves; ``draw`` draws a set, applies its setup and keeps it with
its baseline; ``state`` reads the rows grading compares; ``grading`` compares them;
``scripted_agent`` is a stand-in that acts over MCP. Unlike the answer key, the gold end
state is worked out by the services themselves (each instruction planned and rolled back),
so it cannot drift from the rules the bank applies.
"""
