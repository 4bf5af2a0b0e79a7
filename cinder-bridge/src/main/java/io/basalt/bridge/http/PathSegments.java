package io.basalt.bridge.http;

import io.vertx.ext.web.RoutingContext;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * Refuses request paths that routing would otherwise rewrite. Vert.x resolves "." and ".." segments
 * (also when percent-encoded) before matching routes, so that "DELETE .../hosts/.." would reach
 * "DELETE /volumes/{id}"; every segment must therefore be exactly a name, never a dot segment, an
 * empty segment or a malformed escape. Runs before the token check: the answer says nothing about
 * what exists.
 */
final class PathSegments {
    private PathSegments() {
    }

    static void refuseUnlessLiteral(RoutingContext ctx) {
        String problem = problem(ctx.request().path());
        if (problem == null) {
            ctx.next();
        } else {
            JsonResponses.error(ctx, 400, problem, null);
        }
    }

    /** Why {@code rawPath} (still percent-encoded) is refused, or null if every segment is literal. */
    static String problem(String rawPath) {
        if (rawPath == null || !rawPath.startsWith("/")) {
            return "the request path must start with /";
        }
        for (String segment : rawPath.substring(1).split("/", -1)) {
            String decoded = decode(segment);
            if (decoded == null) {
                return "the request path has a malformed percent escape or is not UTF-8";
            }
            if (decoded.isEmpty()) {
                return "the request path has an empty segment";
            }
            if (decoded.equals(".") || decoded.equals("..")) {
                return "the request path has a '.' or '..' segment";
            }
        }
        return null;
    }

    /** Percent-decodes one segment strictly ('+' stays '+'), or null when malformed. */
    private static String decode(String segment) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(segment.length());
        for (int i = 0; i < segment.length(); i++) {
            char c = segment.charAt(i);
            if (c != '%') {
                bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
            } else if (i + 2 < segment.length() && HexFormat.isHexDigit(segment.charAt(i + 1))
                    && HexFormat.isHexDigit(segment.charAt(i + 2))) {
                bytes.write(HexFormat.fromHexDigits(segment, i + 1, i + 3));
                i += 2;
            } else {
                return null;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
