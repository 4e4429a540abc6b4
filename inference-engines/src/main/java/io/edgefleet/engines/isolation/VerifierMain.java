package io.edgefleet.engines.isolation;

import io.edgefleet.engines.Engines;
import io.edgefleet.engines.ModelInspection;
import io.edgefleet.engines.ModelLoadException;
import io.edgefleet.protocols.messages.MessageCodec;
import java.io.PrintStream;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The child side of {@link IsolatedVerifier}: loads one model file, prints its inspection as
 * JSON on stdout and exits 0; prints {@code {"error": "..."}} and exits 1 when the runtime refuses
 * it. Anything worse (a native crash, a hang, running out of memory) is the parent's to report.
 */
public final class VerifierMain {
    static final int REFUSED = 1;
    static final int BROKEN = 2;

    private VerifierMain() {
    }

    public static void main(String[] args) {
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        if (args.length != 1) {
            out.println("{\"error\":\"usage: VerifierMain FILE\"}");
            System.exit(BROKEN);
        }
        String fault = System.getProperty("edgefleet.isolation.fault", "");
        if (!fault.isEmpty()) {
            injectFault(fault);
        }
        MessageCodec json = MessageCodec.json();
        try {
            ModelInspection inspection = Engines.inspectInProcess(Path.of(args[0]));
            out.print(new String(json.encode(inspection), StandardCharsets.UTF_8));
            out.println();
            out.flush();
            System.exit(0);
        } catch (ModelLoadException e) {
            out.print(new String(json.encode(Map.of("error", e.reason())), StandardCharsets.UTF_8));
            out.println();
            out.flush();
            System.exit(REFUSED);
        } catch (RuntimeException | LinkageError e) {
            out.print(new String(json.encode(Map.of("error", String.valueOf(e))), StandardCharsets.UTF_8));
            out.println();
            out.flush();
            System.exit(BROKEN);
        }
    }

    @SuppressWarnings("removal")
    private static void injectFault(String fault) {
        switch (fault) {
            case "CRASH" -> {
                try {
                    Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                    f.setAccessible(true);
                    sun.misc.Unsafe unsafe = (sun.misc.Unsafe) f.get(null);
                    unsafe.putAddress(0L, 42L);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            case "HANG" -> {
                while (true) {
                    try {
                        Thread.sleep(60_000);
                    } catch (InterruptedException e) {
                        // keep hanging: only the parent's kill ends this
                    }
                }
            }
            case "OOM" -> {
                List<long[]> hog = new ArrayList<>();
                while (true) {
                    hog.add(new long[1 << 20]);
                }
            }
            default -> throw new IllegalArgumentException("unknown fault " + fault);
        }
    }
}
