/* Dispatch by format; kept apart from detection so that linking the
 * detector does not pull in every parser. */
#include "patchwarden/feed.h"

pw_err pw_feed_parse(pw_feed_format format, const char *data, size_t len, const char *name,
		     const pw_feed_sink *sink, pw_error *err)
{
	switch (format) {
	case PW_FEED_OSV:
		return pw_feed_parse_osv(data, len, name, sink, err);
	case PW_FEED_DEBIAN_LIST:
		return pw_feed_parse_debian_list(data, len, name, sink, err);
	case PW_FEED_DEBIAN_JSON:
		return pw_feed_parse_debian_json(data, len, name, sink, err);
	case PW_FEED_UBUNTU_UCT:
		return pw_feed_parse_ubuntu_uct(data, len, name, sink, err);
	case PW_FEED_ALPINE_YAML:
	case PW_FEED_ALPINE_JSON:
		return pw_feed_parse_alpine_secdb(data, len, name, sink, err);
	case PW_FEED_KEV:
		return pw_feed_parse_kev(data, len, name, sink, err);
	case PW_FEED_EPSS:
		return pw_feed_parse_epss(data, len, name, sink, err);
	case PW_FEED_UNKNOWN:
	case PW_FEED__COUNT:
		break;
	}
	return pw_error_set(
		err, PW_ERR_UNSUPPORTED,
		"%s: not a feed format patchwarden knows (OSV JSON, Debian tracker list or JSON, "
		"Ubuntu CVE tracker, Alpine secdb, CISA KEV, EPSS CSV)",
		name);
}
