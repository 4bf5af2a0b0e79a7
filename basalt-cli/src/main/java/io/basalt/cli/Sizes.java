package io.basalt.cli;

import io.basalt.service.config.ByteSize;
import picocli.CommandLine;

/** {@code --size 10GiB} on the command line. */
final class Sizes implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return ByteSize.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
