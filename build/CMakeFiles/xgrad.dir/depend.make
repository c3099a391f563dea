# Empty dependencies file for xgrad.
# This may be replaced when dependencies are built.
