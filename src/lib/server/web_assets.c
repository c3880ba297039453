/* The console's stylesheet and script, compiled in. Their URLs carry a
 * hash of their text, so they are cached for a year and a new binary's
 * assets are fetched at once. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "server-internal.h"

static const char css[] =
	"body{font:16px/1.45 system-ui,sans-serif;margin:0;color:#1b1b1b;background:#fff}\n"
	"header{display:flex;flex-wrap:wrap;gap:1em;align-items:center;padding:.5em 1em;"
	"background:#1d3557;color:#fff}\n"
	"header a{color:#fff}\nheader form{margin-left:auto}\n"
	"nav a{margin-right:1em}\nmain{padding:1em;max-width:80em}\n"
	"a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #e76f51;"
	"outline-offset:2px}\n"
	".skip{position:absolute;left:-999px}.skip:focus{left:1em;top:1em;background:#fff;"
	"color:#000;padding:.3em}\n"
	"table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #999;padding:.2em "
	".5em;text-align:left;vertical-align:top}\n"
	/* Tokens wrap; a table of hashes scrolls by itself, not the page. */
	"code{overflow-wrap:anywhere}.wide{overflow-x:auto}\n"
	"dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}"
	"dd{margin:0}\n"
	"label{display:block;margin:.3em 0}fieldset{margin:.5em 0}\n"
	".error{border:2px solid #b00020;padding:.5em}.ok{border:2px solid #2a7d2a;padding:.5em}\n";

/* Progressive enhancement only: every page works without it. */
static const char js[] = "\"use strict\";\n"
			 "document.addEventListener(\"submit\", function (e) {\n"
			 "  var m = e.target.getAttribute(\"data-confirm\");\n"
			 "  if (m && !window.confirm(m)) e.preventDefault();\n"
			 "});\n"
			 "document.addEventListener(\"DOMContentLoaded\", function () {\n"
			 "  var f = document.querySelector(\"[data-autofocus]\");\n"
			 "  if (f) f.focus();\n"
			 "});\n";

static const pw_web_asset assets[] = {
	{"css", "text/css; charset=utf-8", css, sizeof css - 1},
	{"js", "text/javascript; charset=utf-8", js, sizeof js - 1},
};
static char paths[2][48];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* FNV-1a: a cache key, not a security boundary. */
static uint32_t fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

static void name_them(void)
{
	for (size_t i = 0; i < 2; i++)
		snprintf(paths[i], sizeof paths[i], "/static/pw-%08x.%s",
			 fnv(assets[i].text, assets[i].len), assets[i].ext);
}

const char *pw_web_asset_path(const char *ext)
{
	pthread_once(&once, name_them);
	return !strcmp(ext, "css") ? paths[0] : paths[1];
}

const pw_web_asset *pw_web_asset_find(const char *path)
{
	pthread_once(&once, name_them);
	for (size_t i = 0; i < 2; i++)
		if (!strcmp(path, paths[i]))
			return &assets[i];
	return NULL;
}
