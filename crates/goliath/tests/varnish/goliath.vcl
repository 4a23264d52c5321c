vcl 4.1;

# A CDN in front of goliath, for crates/goliath/tests/varnish.rs (which
# substitutes GOLIATH_HOST and GOLIATH_PORT): answers are cached by URL for
# as long as their Cache-Control says (varnishd runs with default_ttl=0, so
# an answer without max-age is not kept), every answer says whether it came
# from the cache (X-Cache: HIT or MISS), and Fastly-style purging by
# surrogate key: `PURGE` (or `BAN`) with `Surrogate-Key: KEY [KEY ...]`
# bans every object whose own Surrogate-Key header lists one of the keys.
# The ban reads obj.http only, so the ban lurker can apply it in the
# background as well as at lookup.

backend goliath {
    .host = "GOLIATH_HOST";
    .port = "GOLIATH_PORT";
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE" || req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (!req.http.Surrogate-Key || req.http.Surrogate-Key !~ "\S") {
            return (synth(400, "Surrogate-Key required"));
        }
        # The keys, regex metacharacters escaped, trimmed, as alternatives.
        set req.http.X-Ban-Keys = regsuball(req.http.Surrogate-Key, "([][\\^$.|?*+(){}])", "\\\1");
        set req.http.X-Ban-Keys = regsuball(req.http.X-Ban-Keys, "^\s+|\s+$", "");
        set req.http.X-Ban-Keys = regsuball(req.http.X-Ban-Keys, "\s+", "|");
        ban("obj.http.Surrogate-Key ~ " + {"(^|\s)("} + req.http.X-Ban-Keys + {")(\s|$)"});
        return (synth(200, "Banned"));
    }
    # Cache by URL alone (vcl_hash below); the builtin vcl_recv still
    # passes what it must (methods other than GET/HEAD, Authorization,
    # Cookie).
}

sub vcl_hash {
    hash_data(req.url);
    return (lookup);
}

sub vcl_deliver {
    # Surrogate-Key stays on the answer for the test to read (Fastly strips
    # it; a production VCL would `unset resp.http.Surrogate-Key` here).
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
