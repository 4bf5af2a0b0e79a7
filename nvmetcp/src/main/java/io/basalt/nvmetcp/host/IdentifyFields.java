package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/** Decoding of the text and byte-array fields of identify and log page structures. */
final class IdentifyFields {
    private IdentifyFields() {
    }

    /** An ASCII or UTF-8 field, without its space or NUL padding. */
    static String text(ByteBuf buf, int index, int length) {
        int end = index;
        while (end < index + length && buf.getByte(end) != 0) {
            end++;
        }
        return buf.toString(index, end - index, StandardCharsets.UTF_8).strip();
    }

    static byte[] bytes(ByteBuf buf, int index, int length) {
        byte[] out = new byte[length];
        buf.getBytes(index, out);
        return out;
    }
}
