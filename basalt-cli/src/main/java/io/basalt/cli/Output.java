package io.basalt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.ToStringSerializer;

import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What a command prints: aligned tables and "key: value" lines for people, the API's JSON for scripts. */
final class Output {
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .addModule(new SimpleModule().addSerializer(Instant.class, ToStringSerializer.instance))
            .build();

    private final PrintWriter out;
    private final boolean json;

    Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    /** The value as JSON when {@code --json} was given; the caller prints for people otherwise. */
    boolean printedAsJson(Object value) {
        if (!json) {
            return false;
        }
        try {
            out.println(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("API records are always JSON", e);
        }
        return true;
    }

    void line(String text) {
        out.println(text);
    }

    /** {@code key: value} lines with the values aligned. */
    void fields(List<String[]> keyValues) {
        int width = keyValues.stream().mapToInt(kv -> kv[0].length()).max().orElse(0) + 1;
        for (String[] kv : keyValues) {
            out.println(pad(kv[0] + ":", width) + " " + kv[1]);
        }
    }

    /** Columns left-aligned, two spaces apart; a header line even when there are no rows. */
    void table(List<String> headers, List<List<String>> rows) {
        List<List<String>> all = new ArrayList<>();
        all.add(headers);
        all.addAll(rows);
        int[] widths = new int[headers.size()];
        for (List<String> row : all) {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        for (List<String> row : all) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(i + 1 == row.size() ? row.get(i) : pad(row.get(i), widths[i]) + "  ");
            }
            out.println(line.toString().stripTrailing());
        }
    }

    void flush() {
        out.flush();
    }

    private static String pad(String text, int width) {
        return text + " ".repeat(Math.max(0, width - text.length()));
    }
}
