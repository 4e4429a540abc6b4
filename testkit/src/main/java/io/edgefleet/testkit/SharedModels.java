package io.edgefleet.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The real third-party models of {@code shared/models}, beside the repository (the folder that
 * holds {@code mvnw}), or the folder named by {@code -Dedgefleet.shared.models=DIR}. The one place
 * tests find them.
 *
 * <p>When a model is missing, a test is skipped with the path in the reason, except where models
 * are required: the environment variable {@code EDGEFLEET_REQUIRE_MODELS=1} ({@code .ci/run} sets
 * it), the system property {@code edgefleet.require.models=true}, or {@code CI=true} (set by most CI
 * services). There a missing model fails the test, so CI cannot stay green by skipping.
 */
public final class SharedModels {
    /** System property naming the models folder. */
    public static final String PROPERTY = "edgefleet.shared.models";
    /** Environment variable that turns a missing model from a skip into a failure. */
    public static final String REQUIRE_ENV = "EDGEFLEET_REQUIRE_MODELS";

    private SharedModels() {
    }

    /** The models folder, absolute and normalised (it may not exist). */
    public static Path dir() {
        String override = System.getProperty(PROPERTY);
        if (override != null && !override.isBlank()) {
            return Path.of(override).toAbsolutePath().normalize();
        }
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("mvnw"))) {
                return p.resolveSibling("shared").resolve("models").normalize();
            }
        }
        return here.resolve("../../shared/models").normalize(); // tests run in the module folder
    }

    /** Whether a missing model fails the test (CI) rather than skipping it. */
    public static boolean required() {
        return truthy(System.getenv(REQUIRE_ENV)) || truthy(System.getProperty("edgefleet.require.models")) || truthy(System.getenv("CI"));
    }

    /**
     * The file or folder {@code relative} to {@link #dir()}; when it does not exist, skips the test
     * (or fails it where models are {@link #required()}), naming the path and the override.
     */
    public static Path require(String relative) {
        return require(dir(), relative, required());
    }

    static Path require(Path dir, String relative, boolean required) {
        Path p = dir.resolve(relative).normalize();
        if (!Files.exists(p)) {
            String why = "real model " + p + " not found (shared/models beside the repository, or -D" + PROPERTY + "=DIR)";
            if (required) {
                Assertions.fail(why + "; models are required here (" + REQUIRE_ENV + " or CI is set), so this is a failure, not a skip");
            }
            Assumptions.abort("skipped: " + why);
        }
        return p;
    }

    /** The models folder itself, under the same rule as {@link #require(String)}. */
    public static Path requireDir() {
        return require(".");
    }

    /**
     * An Open Inference Protocol v2 JSON request for {@code silero_vad/silero_vad_fp32.onnx}, all
     * zeros: {@code input} FP32 [batch, samples], {@code state} FP32 [2, stateBatch, 128], {@code sr}
     * INT64 scalar 16000. Zero or disagreeing sizes make the bad requests the native-boundary tests send.
     */
    public static String sileroRequestJson(int batch, int samples, int stateBatch) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[" + batch + "," + samples + "],\"datatype\":\"FP32\",\"data\":"
                + zeros(batch * samples) + "},{\"name\":\"state\",\"shape\":[2," + stateBatch + ",128],\"datatype\":\"FP32\",\"data\":"
                + zeros(2 * stateBatch * 128) + "},{\"name\":\"sr\",\"shape\":[],\"datatype\":\"INT64\",\"data\":[16000]}]}";
    }

    private static String zeros(int n) {
        return "[" + String.join(",", java.util.Collections.nCopies(n, "0")) + "]";
    }

    private static boolean truthy(String v) {
        return v != null && switch (v.strip().toLowerCase(Locale.ROOT)) {
            case "1", "true", "yes" -> true;
            default -> false;
        };
    }
}
