package io.edgefleet.profiles;

import io.edgefleet.protocols.Checks;
import io.edgefleet.protocols.ProtocolException;

/**
 * A model runtime a device can run, with its version.
 *
 * @param name runtime id as manifests name it: {@code tflite}, {@code onnxruntime}, ...
 * @param version dotted numeric version, e.g. {@code 2.6} or {@code 1.23.2}
 */
public record RuntimeSupport(String name, String version) {
    public RuntimeSupport {
        Checks.id(name, "name");
        Checks.required(version, "version");
        if (!version.matches("\\d+(\\.\\d+){0,3}")) {
            throw new ProtocolException("version", "'" + Checks.printable(version) + "' is not a dotted numeric version");
        }
    }

    /** Whether this version is at least {@code minimum} (numeric, missing components count as 0). */
    public boolean atLeast(String minimum) {
        return compare(version, minimum) >= 0;
    }

    /** Numeric comparison of dotted versions: {@code 2.10 > 2.6}. */
    public static int compare(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            long p = i < x.length ? parse(x[i]) : 0;
            long q = i < y.length ? parse(y[i]) : 0;
            if (p != q) {
                return Long.compare(p, q);
            }
        }
        return 0;
    }

    private static long parse(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ProtocolException("version", "'" + Checks.printable(s) + "' is not a number");
        }
    }

    @Override
    public String toString() {
        return name + " " + version;
    }
}
