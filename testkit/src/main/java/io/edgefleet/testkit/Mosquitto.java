package io.edgefleet.testkit;

import java.util.Locale;
import java.util.Optional;

/**
 * Creates the {@link MosquittoBroker} for a test: a Testcontainers container where a Docker
 * engine is available, else the {@code mosquitto} binary. The system property or environment
 * variable {@code edgefleet.mosquitto} / {@code EDGEFLEET_MOSQUITTO} ({@code auto},
 * {@code docker}, {@code binary}) forces one.
 */
public final class Mosquitto {
    private Mosquitto() {
    }

    /** A started broker on a free loopback port. */
    public static MosquittoBroker start() {
        MosquittoBroker b = create();
        try {
            b.start();
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /**
     * A started broker from the {@code mosquitto} binary with the caller's listener and security
     * lines (TLS, client certificates, ACLs, plugins), given the port and the broker's folder; the
     * config text is generated when the broker is created and read again at every start.
     *
     * @param listener e.g. {@code (port, dir) -> "listener " + port + " 127.0.0.1\ncafile ...\n"}
     * @param prepare called with the broker's folder before the first start (to write certificate files)
     */
    public static MosquittoBroker startSecured(java.util.function.BiFunction<Integer, java.nio.file.Path, String> listener,
            java.util.function.Consumer<java.nio.file.Path> prepare) {
        MosquittoBroker b = new MosquittoProcess(MosquittoProcess.findBinary().orElseThrow(Mosquitto::noBroker), listener);
        try {
            prepare.accept(b.folder());
            b.start();
        } catch (RuntimeException e) {
            b.close();
            throw e;
        }
        return b;
    }

    /** A broker not yet started. */
    public static MosquittoBroker create() {
        String mode = Optional.ofNullable(System.getProperty("edgefleet.mosquitto"))
                .or(() -> Optional.ofNullable(System.getenv("EDGEFLEET_MOSQUITTO")))
                .orElse("auto").toLowerCase(Locale.ROOT);
        Optional<java.nio.file.Path> binary = MosquittoProcess.findBinary();
        switch (mode) {
            case "binary":
                return new MosquittoProcess(binary.orElseThrow(Mosquitto::noBroker));
            case "docker":
                return new MosquittoContainer();
            case "auto":
                if (MosquittoContainer.dockerAvailable()) {
                    return new MosquittoContainer();
                }
                return new MosquittoProcess(binary.orElseThrow(Mosquitto::noBroker));
            default:
                throw new IllegalArgumentException("edgefleet.mosquitto must be auto, docker or binary, got '" + mode + "'");
        }
    }

    private static IllegalStateException noBroker() {
        return new IllegalStateException("No MQTT broker for the tests: no Docker engine for Testcontainers and no "
                + "mosquitto binary (looked in /usr/sbin, /usr/local/sbin, /usr/bin and the PATH). "
                + "Install it with: apt-get install -y mosquitto mosquitto-clients");
    }
}
