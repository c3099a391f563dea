file(REMOVE_RECURSE
  "libxgrad.a"
)
