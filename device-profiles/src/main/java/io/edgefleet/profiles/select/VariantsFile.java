package io.edgefleet.profiles.select;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.edgefleet.profiles.catalog.DeviceCatalog;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the variants of a model from a YAML or JSON file with a {@code variants:} list. The
 * field names are those of a manifest's variants, so a manifest file works as it is.
 */
public final class VariantsFile {
    private static final ObjectMapper YAML = DeviceCatalog.yamlMapper();

    private VariantsFile() {
    }

    /**
     * @throws ProtocolException naming the file and the field that is wrong
     */
    public static List<Variant> load(Path file) {
        try {
            JsonNode root = YAML.readTree(Files.readAllBytes(file));
            if (root == null || !root.has("variants") || !root.get("variants").isArray()) {
                throw new ProtocolException(file + ":$.variants", "is required: a list of variants");
            }
            JsonNode list = root.get("variants");
            List<Variant> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                try {
                    out.add(YAML.treeToValue(list.get(i), Variant.class));
                } catch (JacksonException e) {
                    ProtocolException pe = Json.translate(e);
                    throw new ProtocolException(file + ":" + pe.under("$.variants[" + i + "]").path(), pe.reason(), e);
                }
            }
            if (out.isEmpty()) {
                throw new ProtocolException(file + ":$.variants", "must not be empty");
            }
            return out;
        } catch (JacksonException e) {
            ProtocolException pe = Json.translate(e);
            throw new ProtocolException(file + ":" + pe.path(), pe.reason(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read variants file " + file, e);
        }
    }
}
