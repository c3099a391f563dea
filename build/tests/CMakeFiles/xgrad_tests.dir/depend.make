# Empty dependencies file for xgrad_tests.
# This may be replaced when dependencies are built.
