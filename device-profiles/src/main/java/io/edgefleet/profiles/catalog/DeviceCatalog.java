package io.edgefleet.profiles.catalog;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.edgefleet.profiles.DeviceProfile;
import io.edgefleet.protocols.DecodeLimits;
import io.edgefleet.protocols.Json;
import io.edgefleet.protocols.ProtocolException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A set of device profiles by id. {@link #builtIn()} holds the real device classes shipped as
 * YAML resources (one file per class, listed in {@code index.txt}); operators can load their
 * own files with {@link #load(Path)} and combine catalogs with {@link #with(DeviceCatalog)}.
 * Immutable and thread-safe.
 */
public final class DeviceCatalog {
    private static final String RESOURCES = "/io/edgefleet/profiles/catalog/";
    private static final ObjectMapper YAML = yamlMapper();

    private final Map<String, DeviceProfile> profiles;

    private DeviceCatalog(Map<String, DeviceProfile> profiles) {
        this.profiles = Collections.unmodifiableMap(profiles);
    }

    /** The YAML mapper with the same strict rules as the wire codecs. */
    public static ObjectMapper yamlMapper() {
        DecodeLimits limits = DecodeLimits.DEFAULT;
        YAMLFactory f = YAMLFactory.builder().streamReadConstraints(Json.constraints(limits))
                .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
                .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
                .build();
        return Json.configure(YAMLMapper.builder(f)).build();
    }

    /** The shipped catalog of real device classes. */
    public static DeviceCatalog builtIn() {
        Map<String, DeviceProfile> m = new LinkedHashMap<>();
        for (String file : resource("index.txt").lines().map(String::strip).filter(s -> !s.isEmpty() && !s.startsWith("#")).toList()) {
            DeviceProfile p = parse(resource(file).getBytes(StandardCharsets.UTF_8), file);
            if (m.put(p.id(), p) != null) {
                throw new IllegalStateException("built-in catalog lists profile '" + p.id() + "' twice");
            }
        }
        return new DeviceCatalog(m);
    }

    /**
     * Loads profiles from a YAML file holding one profile, or a {@code profiles:} list.
     *
     * @throws ProtocolException naming the file and the field that is wrong
     */
    public static DeviceCatalog load(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read profile file " + file, e);
        }
        Map<String, DeviceProfile> m = new LinkedHashMap<>();
        for (DeviceProfile p : parseAll(bytes, file.toString())) {
            m.put(p.id(), p);
        }
        return new DeviceCatalog(m);
    }

    /** One profile, or a {@code profiles:} list; errors are prefixed with {@code source}. */
    static List<DeviceProfile> parseAll(byte[] yaml, String source) {
        try {
            JsonNode tree = YAML.readTree(yaml);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new ProtocolException("$", "is empty");
            }
            if (!tree.has("profiles")) {
                return List.of(YAML.treeToValue(tree, DeviceProfile.class));
            }
            JsonNode list = tree.get("profiles");
            List<DeviceProfile> out = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                try {
                    out.add(YAML.treeToValue(list.get(i), DeviceProfile.class));
                } catch (JacksonException e) {
                    throw Json.translate(e).under("$.profiles[" + i + "]");
                }
            }
            return out;
        } catch (ProtocolException e) {
            throw new ProtocolException(source + ":" + e.path(), e.reason(), e);
        } catch (JacksonException e) {
            ProtocolException pe = Json.translate(e);
            throw new ProtocolException(source + ":" + pe.path(), pe.reason(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read profiles from " + source, e);
        }
    }

    static DeviceProfile parse(byte[] yaml, String source) {
        List<DeviceProfile> all = parseAll(yaml, source);
        if (all.size() != 1) {
            throw new ProtocolException(source + ":$", "holds " + all.size() + " profiles where one was expected");
        }
        return all.get(0);
    }

    private static String resource(String name) {
        try (InputStream in = DeviceCatalog.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("catalog resource missing: " + RESOURCES + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The runtimes the agent distribution ships a native library for on {@code arch} (Linux), from
     * {@code architectures.yaml}: on {@code arm64} ONNX Runtime only, since no linux-aarch64 build of
     * TFLite's JNI library is published.
     */
    public static java.util.Set<String> shippedRuntimes(io.edgefleet.profiles.Arch arch) {
        try {
            JsonNode list = YAML.readTree(resource("architectures.yaml")).get(arch.wire());
            if (list == null || !list.isArray()) {
                throw new IllegalStateException("catalog resource architectures.yaml has no list for " + arch.wire());
            }
            java.util.Set<String> out = new java.util.LinkedHashSet<>();
            list.forEach(n -> out.add(n.asText()));
            return java.util.Collections.unmodifiableSet(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A device of {@code profile}'s class as it comes with the agent distribution and nothing configured:
     * the profile with only the runtimes shipped for its architecture ({@link #shippedRuntimes}).
     */
    public static DeviceProfile outOfTheBox(DeviceProfile profile) {
        return profile.withRuntimesOnly(shippedRuntimes(profile.arch()));
    }

    /** This catalog plus {@code other}'s profiles; on the same id, {@code other} wins. */
    public DeviceCatalog with(DeviceCatalog other) {
        Map<String, DeviceProfile> m = new LinkedHashMap<>(profiles);
        m.putAll(other.profiles);
        return new DeviceCatalog(m);
    }

    public Optional<DeviceProfile> find(String id) {
        return Optional.ofNullable(profiles.get(id));
    }

    /**
     * @throws UnknownProfileException listing the known ids
     */
    public DeviceProfile get(String id) {
        return find(id).orElseThrow(() -> new UnknownProfileException(id, ids()));
    }

    public List<DeviceProfile> all() {
        return List.copyOf(profiles.values());
    }

    public List<String> ids() {
        return new ArrayList<>(profiles.keySet());
    }
}
