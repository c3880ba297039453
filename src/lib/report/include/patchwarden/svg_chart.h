/* Charts as inline SVG, written in C so a report stays one file that
 * needs no script and no network: a line chart (a value over time) and a
 * bar chart (a value per category). Used by the compliance report's HTML
 * (compliance.h) and meant for the web console's pages too.
 *
 * Every text (title, description, labels) goes through pw_xml_escape, so
 * any byte sequence is safe inside HTML and SVG. Each chart is
 * accessible on its own: role="img" with aria-labelledby naming its
 * <title> and <desc>, and each point carries a <title> with its label and
 * value (readers show it as a tooltip); a page should still give the
 * numbers as a table beside it. Values that are negative, NaN or infinite
 * are drawn as 0; no series, one point and all-zero values draw a chart
 * with its axes (the empty one says "no data"). */
#ifndef PATCHWARDEN_SVG_CHART_H
#define PATCHWARDEN_SVG_CHART_H

#include <stddef.h>

#include "patchwarden/buf.h"
#include "patchwarden/error.h"

typedef struct pw_svg_point {
	const char *label;     /* x label (a date, a category); NULL: "" */
	double value;          /* y */
	const char *css_class; /* a bar's class (e.g. "p-high"), NULL: none; lines ignore it */
} pw_svg_point;

typedef struct pw_svg_chart {
	const char *id;    /* unique in the page: prefixes the ids of <title> and <desc> */
	const char *title; /* required */
	const char *desc;  /* NULL: none */
	const char *unit;  /* after each value ("%", " days"); NULL: none */
	int width, height; /* pixels; 0: 640 x 240 */
	double y_max;      /* the top of the y axis; 0: from the values, rounded up */
} pw_svg_chart;

/* Appends `text` with & < > " ' as character references: safe as HTML or
 * SVG text and inside a quoted attribute. NULL appends nothing. */
pw_err pw_xml_escape(pw_buf *out, const char *text);

/* A polyline through the points, evenly spaced left to right in order. */
pw_err pw_svg_line_chart(pw_buf *out, const pw_svg_chart *c, const pw_svg_point *pts, size_t n,
			 pw_error *err);

/* One bar per point, left to right in order, its value above it. */
pw_err pw_svg_bar_chart(pw_buf *out, const pw_svg_chart *c, const pw_svg_point *pts, size_t n,
			pw_error *err);

#endif
