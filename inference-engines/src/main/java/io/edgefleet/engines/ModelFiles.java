package io.edgefleet.engines;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/** Facts about a model file read without any runtime: format, size, SHA-256. */
public final class ModelFiles {
    private ModelFiles() {
    }

    /**
     * The runtime a file is for: TFLite flatbuffers carry the identifier {@code TFL3} at byte 4;
     * anything else named {@code .onnx}, or starting like an ONNX protobuf, is ONNX.
     *
     * @throws ModelLoadException for a missing, empty or unrecognised file
     */
    public static String detectRuntime(Path file) {
        byte[] head = new byte[8];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, 8);
        } catch (IOException e) {
            throw new ModelLoadException(file.toString(), "cannot be read: " + e.getMessage(), e);
        }
        if (n == 0) {
            throw new ModelLoadException(file.toString(), "is empty");
        }
        if (n >= 8 && head[4] == 'T' && head[5] == 'F' && head[6] == 'L' && head[7] == '3') {
            return "tflite";
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".onnx") || head[0] == 0x08) {
            return "onnxruntime";
        }
        if (name.endsWith(".tflite")) {
            return "tflite";
        }
        throw new ModelLoadException(file.toString(), "is neither a TensorFlow Lite flatbuffer (no TFL3 identifier) "
                + "nor an ONNX model (.onnx)");
    }

    public static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int r;
            while ((r = in.read(buf)) > 0) {
                md.update(buf, 0, r);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelLoadException(file.toString(), "cannot be read: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    public static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new ModelLoadException(file.toString(), "cannot be read: " + e.getMessage(), e);
        }
    }
}
