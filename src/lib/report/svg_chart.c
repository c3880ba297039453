/* Inline SVG charts (svg_chart.h). */
#include "patchwarden/svg_chart.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define LEFT 52
#define RIGHT 16
#define TOP 20
#define BOTTOM 44

pw_err pw_xml_escape(pw_buf *out, const char *text)
{
	pw_err rc = PW_OK;
	for (const char *p = text; p && *p && !rc; p++) {
		switch (*p) {
		case '&':
			rc = pw_buf_puts(out, "&amp;");
			break;
		case '<':
			rc = pw_buf_puts(out, "&lt;");
			break;
		case '>':
			rc = pw_buf_puts(out, "&gt;");
			break;
		case '"':
			rc = pw_buf_puts(out, "&quot;");
			break;
		case '\'':
			rc = pw_buf_puts(out, "&#39;");
			break;
		default:
			/* XML 1.0 has no character for the other control bytes, not even as a
			 * reference: a parser would refuse the page. */
			rc = (unsigned char)*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r'
				     ? pw_buf_puts(out, "\xef\xbf\xbd")
				     : pw_buf_putc(out, *p);
		}
	}
	return rc;
}

static double value_of(const pw_svg_point *p)
{
	return isfinite(p->value) && p->value > 0 ? p->value : 0;
}

/* The y axis' top: the given one, else the largest value rounded up to 1,
 * 2 or 5 times a power of ten, so the grid's labels are round; never 0, so
 * all-zero values divide by it safely. */
static double axis_top(const pw_svg_chart *c, const pw_svg_point *pts, size_t n)
{
	if (isfinite(c->y_max) && c->y_max > 0)
		return c->y_max;
	double max = 0;
	for (size_t i = 0; i < n; i++)
		max = fmax(max, value_of(&pts[i]));
	if (max <= 0)
		return 1;
	double p = pow(10, floor(log10(max)));
	static const double steps[] = {1, 2, 5, 10};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (max <= steps[i] * p)
			return steps[i] * p;
	return 10 * p;
}

struct frame {
	pw_buf *out;
	const pw_svg_chart *c;
	int w, h;      /* the whole picture */
	double pw, ph; /* the plot area */
	double top;    /* the y axis' top value */
	const char *unit;
};

static double y_of(const struct frame *f, double v)
{
	return TOP + f->ph - f->ph * (v / f->top);
}

/* A number as a chart shows it: whole when it is, else one decimal. */
static pw_err put_value(pw_buf *out, double v, const char *unit)
{
	pw_err rc = v == floor(v) && fabs(v) < 1e15 ? pw_buf_printf(out, "%.0f", v)
						    : pw_buf_printf(out, "%.1f", v);
	return rc ? rc : pw_xml_escape(out, unit);
}

static pw_err open_svg(struct frame *f, const char *kind)
{
	const pw_svg_chart *c = f->c;
	pw_buf *out = f->out;
	const char *id = c->id && *c->id ? c->id : "chart";
	pw_err rc = pw_buf_printf(out,
				  "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart %s\""
				  " viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\""
				  " aria-labelledby=\"",
				  kind, f->w, f->h, f->w, f->h);
	rc = rc ? rc : pw_xml_escape(out, id);
	rc = rc ? rc : pw_buf_puts(out, "-title");
	if (!rc && c->desc) {
		rc = pw_buf_putc(out, ' ');
		rc = rc ? rc : pw_xml_escape(out, id);
		rc = rc ? rc : pw_buf_puts(out, "-desc");
	}
	rc = rc ? rc : pw_buf_puts(out, "\"><title id=\"");
	rc = rc ? rc : pw_xml_escape(out, id);
	rc = rc ? rc : pw_buf_puts(out, "-title\">");
	rc = rc ? rc : pw_xml_escape(out, c->title);
	rc = rc ? rc : pw_buf_puts(out, "</title>");
	if (!rc && c->desc) {
		rc = pw_buf_puts(out, "<desc id=\"");
		rc = rc ? rc : pw_xml_escape(out, id);
		rc = rc ? rc : pw_buf_puts(out, "-desc\">");
		rc = rc ? rc : pw_xml_escape(out, c->desc);
		rc = rc ? rc : pw_buf_puts(out, "</desc>");
	}
	/* The grid: the axis' bottom, middle and top, labelled. */
	for (int i = 0; i <= 2 && !rc; i++) {
		double v = f->top * i / 2, y = y_of(f, v);
		rc = pw_buf_printf(
			out,
			"<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
			" stroke=\"#ccc\"/><text x=\"%d\" y=\"%.1f\" font-size=\"11\""
			" text-anchor=\"end\">",
			LEFT, y, LEFT + f->pw, y, LEFT - 6, y + 4);
		rc = rc ? rc : put_value(out, v, f->unit);
		rc = rc ? rc : pw_buf_puts(out, "</text>");
	}
	return rc;
}

/* The first and last labels keep inside the picture. */
static pw_err label_at(struct frame *f, double x, const char *label, const char *anchor)
{
	pw_err rc = pw_buf_printf(f->out,
				  "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"%s\">",
				  x, f->h - BOTTOM + 16, anchor);
	rc = rc ? rc : pw_xml_escape(f->out, label);
	return rc ? rc : pw_buf_puts(f->out, "</text>");
}

/* A point's <title>: "label: value". */
static pw_err point_title(struct frame *f, const pw_svg_point *p)
{
	pw_err rc = pw_buf_puts(f->out, "<title>");
	rc = rc ? rc : pw_xml_escape(f->out, p->label);
	rc = rc ? rc : pw_buf_puts(f->out, ": ");
	rc = rc ? rc : put_value(f->out, value_of(p), f->unit);
	return rc ? rc : pw_buf_puts(f->out, "</title>");
}

static pw_err close_svg(struct frame *f, size_t n)
{
	pw_err rc = PW_OK;
	if (n == 0)
		rc = pw_buf_printf(f->out,
				   "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\""
				   " text-anchor=\"middle\">no data</text>",
				   LEFT + f->pw / 2, TOP + f->ph / 2);
	return rc ? rc : pw_buf_puts(f->out, "</svg>\n");
}

static pw_err start(struct frame *f, pw_buf *out, const pw_svg_chart *c, const pw_svg_point *pts,
		    size_t n, const char *kind, pw_error *err)
{
	if (!c || !c->title)
		return pw_error_set(err, PW_ERR_INVALID, "a chart needs a title");
	f->out = out;
	f->c = c;
	f->w = c->width > LEFT + RIGHT + 40 ? c->width : 640;
	f->h = c->height > TOP + BOTTOM + 40 ? c->height : 240;
	f->pw = f->w - LEFT - RIGHT;
	f->ph = f->h - TOP - BOTTOM;
	f->top = axis_top(c, pts, n);
	f->unit = c->unit;
	pw_err rc = open_svg(f, kind);
	return rc ? pw_error_set(err, rc, "out of memory writing a chart") : PW_OK;
}

/* Every label when they fit (about 60 pixels each), else the first, the
 * last and evenly spaced ones between. */
static bool labelled(size_t i, size_t n, double pw)
{
	size_t fit = (size_t)(pw / 60) > 1 ? (size_t)(pw / 60) : 2;
	if (n <= fit || i == 0 || i == n - 1)
		return true;
	size_t every = (n + fit - 1) / fit;
	return i % every == 0 && n - 1 - i >= every;
}

pw_err pw_svg_line_chart(pw_buf *out, const pw_svg_chart *c, const pw_svg_point *pts, size_t n,
			 pw_error *err)
{
	struct frame f;
	pw_err rc = start(&f, out, c, pts, n, "line", err);
	if (rc)
		return rc;
	double step = n > 1 ? f.pw / (double)(n - 1) : 0;
#define X_AT(i) (n > 1 ? LEFT + step * (double)(i) : LEFT + f.pw / 2)
	if (n > 1) {
		rc = pw_buf_puts(out,
				 "<polyline fill=\"none\" stroke=\"#1f5fa8\" stroke-width=\"2\""
				 " points=\"");
		for (size_t i = 0; i < n && !rc; i++)
			rc = pw_buf_printf(out, "%s%.1f,%.1f", i ? " " : "", X_AT(i),
					   y_of(&f, value_of(&pts[i])));
		rc = rc ? rc : pw_buf_puts(out, "\"/>");
	}
	for (size_t i = 0; i < n && !rc; i++) {
		rc = pw_buf_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f5fa8\">",
				   X_AT(i), y_of(&f, value_of(&pts[i])));
		rc = rc ? rc : point_title(&f, &pts[i]);
		rc = rc ? rc : pw_buf_puts(out, "</circle>");
		if (!rc && labelled(i, n, f.pw))
			rc = label_at(&f, X_AT(i), pts[i].label,
				      n < 2        ? "middle"
				      : i == 0     ? "start"
				      : i == n - 1 ? "end"
						   : "middle");
	}
#undef X_AT
	rc = rc ? rc : close_svg(&f, n);
	return rc ? pw_error_set(err, rc, "out of memory writing a chart") : PW_OK;
}

pw_err pw_svg_bar_chart(pw_buf *out, const pw_svg_chart *c, const pw_svg_point *pts, size_t n,
			pw_error *err)
{
	struct frame f;
	pw_err rc = start(&f, out, c, pts, n, "bar", err);
	if (rc)
		return rc;
	double slot = n ? f.pw / (double)n : f.pw, bw = slot * 0.6;
	for (size_t i = 0; i < n && !rc; i++) {
		double v = value_of(&pts[i]), x = LEFT + slot * (double)i + (slot - bw) / 2;
		double y = y_of(&f, v);
		rc = pw_buf_puts(out, "<rect");
		if (!rc && pts[i].css_class) {
			rc = pw_buf_puts(out, " class=\"");
			rc = rc ? rc : pw_xml_escape(out, pts[i].css_class);
			rc = rc ? rc : pw_buf_putc(out, '"');
		}
		rc = rc ? rc
			: pw_buf_printf(out,
					" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\""
					" fill=\"#1f5fa8\">",
					x, y, bw, TOP + f.ph - y);
		rc = rc ? rc : point_title(&f, &pts[i]);
		rc = rc ? rc
			: pw_buf_printf(out,
					"</rect><text x=\"%.1f\" y=\"%.1f\" font-size=\"11\""
					" text-anchor=\"middle\">",
					x + bw / 2, y - 4);
		rc = rc ? rc : put_value(out, v, f.unit);
		rc = rc ? rc : pw_buf_puts(out, "</text>");
		if (!rc && labelled(i, n, f.pw))
			rc = label_at(&f, x + bw / 2, pts[i].label, "middle");
	}
	rc = rc ? rc : close_svg(&f, n);
	return rc ? pw_error_set(err, rc, "out of memory writing a chart") : PW_OK;
}
