package io.basalt.bridge.auth;

import io.basalt.bridge.Names;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The bearer tokens a node accepts: one admin token for every project and at most one token per
 * project. Tokens are compared as SHA-256 digests with {@link MessageDigest#isEqual}, against every
 * known token without stopping at a match, so that neither a token's content nor its length nor
 * which token matched shows in the response time.
 */
public final class ApiTokens {
    private static final String CALLER_KEY = ApiTokens.class.getName() + ".caller";
    private static final String BEARER = "Bearer ";

    private final List<Entry> entries;

    private record Entry(byte[] digest, Caller caller) {
    }

    private ApiTokens(List<Entry> entries) {
        this.entries = entries;
    }

    /**
     * @param adminToken    the token that may use every project; required
     * @param projectTokens project name to the token that may use only that project
     * @throws IllegalArgumentException if a token is blank or not a valid bearer token, a project
     *                                  name is invalid, or two entries share a token
     */
    public static ApiTokens of(String adminToken, Map<String, String> projectTokens) {
        requireToken(adminToken, "api.admin-token");
        List<Entry> entries = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        seen.add(adminToken);
        entries.add(new Entry(digest(adminToken), new Caller.Admin()));
        // Sorted so that the order of comparisons does not depend on the map's iteration order.
        for (Map.Entry<String, String> e : new TreeMap<>(projectTokens).entrySet()) {
            String project = e.getKey();
            if (!Names.isValidProject(project)) {
                throw new IllegalArgumentException("project name '" + project + "' must be " + Names.RULE
                        + ", and not '.' or '..'");
            }
            requireToken(e.getValue(), "the token of project " + project);
            if (!seen.add(e.getValue())) {
                throw new IllegalArgumentException("the token of project " + project
                        + " is also used by another project or the admin; every token must be distinct");
            }
            entries.add(new Entry(digest(e.getValue()), new Caller.Member(project)));
        }
        return new ApiTokens(List.copyOf(entries));
    }

    /** The caller a token speaks for, or empty if the token is unknown. */
    public Optional<Caller> authenticate(String token) {
        if (token == null) {
            return Optional.empty();
        }
        byte[] presented = digest(token);
        Caller match = null;
        for (Entry entry : entries) {
            if (MessageDigest.isEqual(entry.digest(), presented)) {
                match = entry.caller();
            }
        }
        return Optional.ofNullable(match);
    }

    /**
     * A handler that lets requests carrying any valid token through, remembering the caller for
     * {@link #caller(RoutingContext)}, and answers the others 401 with {@code WWW-Authenticate: Bearer}.
     */
    public Handler<RoutingContext> requireValidToken() {
        return ctx -> {
            String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
            if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                unauthorized(ctx, "a bearer token is required: send Authorization: Bearer <token>");
                return;
            }
            Optional<Caller> caller = authenticate(header.substring(BEARER.length()).trim());
            if (caller.isEmpty()) {
                unauthorized(ctx, "the bearer token is not valid");
                return;
            }
            ctx.put(CALLER_KEY, caller.get());
            ctx.next();
        };
    }

    /**
     * A handler, behind {@link #requireValidToken()}, that lets only the admin through and answers
     * project tokens 403: for node-wide figures that name every project's volumes.
     */
    public static void requireAdmin(RoutingContext ctx) {
        if (caller(ctx) instanceof Caller.Admin) {
            ctx.next();
        } else {
            ctx.response()
                    .setStatusCode(403)
                    .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                    .end(new JsonObject().put("error", "only the admin token may read the node's figures").toBuffer());
        }
    }

    /**
     * The caller that {@link #requireValidToken()} let through.
     *
     * @throws IllegalStateException if the request did not pass that handler
     */
    public static Caller caller(RoutingContext ctx) {
        Caller caller = ctx.get(CALLER_KEY);
        if (caller == null) {
            throw new IllegalStateException("route " + ctx.request().path() + " is not behind requireValidToken()");
        }
        return caller;
    }

    private static void unauthorized(RoutingContext ctx, String message) {
        ctx.response()
                .setStatusCode(401)
                .putHeader("WWW-Authenticate", "Bearer")
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
                .end(new JsonObject().put("error", message).toBuffer());
    }

    /** RFC 6750 allows only visible ASCII in a bearer token; anything else could never be sent. */
    private static void requireToken(String token, String what) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException(what + " is required and must not be blank");
        }
        if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            throw new IllegalArgumentException(what + " must be visible ASCII characters without spaces");
        }
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
