package io.edgefleet.testkit;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The service manager's side of {@code sd_notify(3)} for tests: a real {@code AF_UNIX} datagram
 * socket bound to a file, whose path a test passes as {@code NOTIFY_SOCKET} to the process under
 * test, and that collects the datagrams it receives. The JDK has no UNIX datagram channel, so
 * this binds through libc (JNA); Linux only ({@link #supported()}). Not thread-safe: one test
 * thread receives.
 */
public final class NotifySocket implements AutoCloseable {
    private static final int SUN_PATH_BYTES = 108;
    private final Path path;
    private final int fd;
    private final List<String> received = new ArrayList<>();

    private NotifySocket(Path path, int fd) {
        this.path = path;
        this.fd = fd;
    }

    /** Whether this platform can bind one (Linux with JNA's native library). */
    public static boolean supported() {
        return Platform.isLinux();
    }

    /** Binds {@code dir/notify.sock} (the directory must exist; its path must fit 107 bytes). */
    public static NotifySocket bind(Path dir) {
        Path path = dir.toAbsolutePath().resolve("notify.sock");
        byte[] name = path.toString().getBytes(StandardCharsets.UTF_8);
        if (name.length + 1 > SUN_PATH_BYTES) {
            throw new IllegalArgumentException("socket path longer than 107 bytes: " + path);
        }
        ByteBuffer addr = ByteBuffer.allocate(2 + name.length + 1).order(ByteOrder.nativeOrder());
        addr.putShort((short) 1).put(name); // AF_UNIX, the path, NUL
        int fd = LibC.INSTANCE.socket(1, 2 | 0x80000, 0); // AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC
        try {
            LibC.INSTANCE.bind(fd, addr.array(), addr.capacity());
        } catch (LastErrorException e) {
            LibC.INSTANCE.close(fd);
            throw e;
        }
        return new NotifySocket(path, fd);
    }

    /** The value for {@code NOTIFY_SOCKET}. */
    public String address() {
        return path.toString();
    }

    /** The next datagram, waiting at most {@code timeout}; empty when none came. */
    public Optional<String> receive(Duration timeout) {
        byte[] pollfd = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putInt(fd).putShort((short) 1).putShort((short) 0).array();
        if (LibC.INSTANCE.poll(pollfd, new NativeLong(1), (int) Math.min(Integer.MAX_VALUE, timeout.toMillis())) == 0) {
            return Optional.empty();
        }
        byte[] buf = new byte[4096];
        int n = LibC.INSTANCE.recv(fd, buf, new NativeLong(buf.length), 0).intValue();
        String message = new String(buf, 0, n, StandardCharsets.UTF_8);
        received.add(message);
        return Optional.of(message);
    }

    /**
     * Receives until a datagram holds the line {@code line} (e.g. {@code READY=1}) and returns that
     * datagram; empty when {@code timeout} passed first. The datagrams received on the way are kept.
     */
    public Optional<String> awaitLine(String line, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (long left = timeout.toNanos(); left > 0; left = deadline - System.nanoTime()) {
            Optional<String> m = receive(Duration.ofNanos(left));
            if (m.isPresent() && m.get().lines().anyMatch(line::equals)) {
                return m;
            }
        }
        return Optional.empty();
    }

    /** Every datagram received so far, in order. */
    public List<String> received() {
        return List.copyOf(received);
    }

    @Override
    public void close() throws java.io.IOException {
        LibC.INSTANCE.close(fd);
        Files.deleteIfExists(path);
    }

    private interface LibC extends Library {
        LibC INSTANCE = Native.load(Platform.C_LIBRARY_NAME, LibC.class);

        int socket(int domain, int type, int protocol) throws LastErrorException;

        int bind(int fd, byte[] addr, int addrlen) throws LastErrorException;

        int poll(byte[] fds, NativeLong nfds, int timeoutMillis) throws LastErrorException;

        NativeLong recv(int fd, byte[] buf, NativeLong len, int flags) throws LastErrorException;

        int close(int fd) throws LastErrorException;
    }
}
