package io.basalt.nvmetcp.host;

import io.netty.buffer.ByteBuf;

import java.util.UUID;

/**
 * A namespace's identifiers from the Namespace Identification Descriptor list (Identify CNS 03h);
 * each is null when the controller does not report it.
 */
public record NamespaceIdentifiers(byte[] eui64, byte[] nguid, UUID uuid) {
    private static final int NIDT_EUI64 = 1;
    private static final int NIDT_NGUID = 2;
    private static final int NIDT_UUID = 3;
    private static final int DESCRIPTOR_HEADER = 4;

    public static NamespaceIdentifiers parse(ByteBuf list) {
        byte[] eui64 = null;
        byte[] nguid = null;
        UUID uuid = null;
        int at = list.readerIndex();
        int end = list.writerIndex();
        while (at + DESCRIPTOR_HEADER <= end) {
            int type = list.getUnsignedByte(at);
            int length = list.getUnsignedByte(at + 1);
            if (type == 0 || at + DESCRIPTOR_HEADER + length > end) {
                break;
            }
            int value = at + DESCRIPTOR_HEADER;
            switch (type) {
                case NIDT_EUI64 -> eui64 = IdentifyFields.bytes(list, value, length);
                case NIDT_NGUID -> nguid = IdentifyFields.bytes(list, value, length);
                case NIDT_UUID -> uuid = new UUID(list.getLong(value), list.getLong(value + 8));
                default -> {
                    // a descriptor type this host does not use (such as the command set identifier)
                }
            }
            at = value + length;
        }
        return new NamespaceIdentifiers(eui64, nguid, uuid);
    }
}
