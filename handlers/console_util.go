package handlers

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

// fmtFloat formats f with prec decimals.
func fmtFloat(f float64, prec int) string { return strconv.FormatFloat(f, 'f', prec, 64) }
