## JSON writing shared by the fixture scripts (sourced, not run on its own): numbers are
## written with the fewest digits (15 to 17) that read back as the same double, NA and
## non-finite values as null, vectors (or I()) as arrays.

fmt_num <- function(v) {
  if (is.na(v) || !is.finite(v)) return("null")
  if (v == round(v) && abs(v) < 1e15) return(sprintf("%.0f", v))
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), v)
    if (as.numeric(s) == v) return(s)
  }
  s
}

prep_json <- function(x) {
  if (is.null(x)) return(NA)
  if (is.list(x) && !is.data.frame(x)) {
    nm <- names(x)
    y <- lapply(x, prep_json)
    names(y) <- nm
    return(y)
  }
  if (is.numeric(x)) {
    txt <- vapply(as.numeric(x), fmt_num, "")
    if (inherits(x, "AsIs") || length(x) != 1)
      return(structure(paste0("[", paste(txt, collapse = ","), "]"), class = "json"))
    return(structure(txt, class = "json"))
  }
  if (inherits(x, "AsIs")) return(I(unclass(x)))
  x
}

write_json_file <- function(obj, path) {
  txt <- toJSON(prep_json(obj), auto_unbox = TRUE, json_verbatim = TRUE, pretty = TRUE,
                na = "null", null = "null")
  writeLines(txt, path)
}
