// Package report prints the records of package results: a run's text
// summary and HTML report (with its SVG charts), and the text, Markdown,
// JSON and HTML reports of a comparison, a check, an ab and a sweep. It
// formats and charts only: every verdict, test and interval it shows was
// computed by results (and results/stat) and is in the record.
package report
