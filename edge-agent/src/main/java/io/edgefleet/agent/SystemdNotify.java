package io.edgefleet.agent;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Tells the service manager how the process is doing, following systemd's notification protocol
 * ({@code sd_notify(3)}): one datagram of newline-separated {@code KEY=VALUE} lines
 * ({@code READY=1}, {@code STOPPING=1}, {@code STATUS=text}) to the {@code AF_UNIX} datagram
 * socket named by the environment variable {@value #NOTIFY_SOCKET} — a file path, or an abstract
 * socket when it starts with {@code @}. systemd sets that variable for a {@code Type=notify}
 * unit, podman for {@code --sdnotify=container}.
 *
 * <p>Why JNA and libc's {@code socket}/{@code sendto} rather than libsystemd's {@code sd_notify}:
 * the JDK has no UNIX-domain datagram channel (JEP 380 covers stream sockets only); libc is on
 * every Linux host and in every container image, libsystemd is not; and the address is an
 * argument, so a test can aim it at its own socket. {@code systemd-notify --ready} from a child
 * process was not taken: systemd drops a message whose sender has already exited before it reads
 * it, unless the unit opens {@code NotifyAccess=all}.
 *
 * <p>Without {@value #NOTIFY_SOCKET} (a shell, a test, a container runtime that does not
 * supervise) every method does nothing and JNA is never loaded. A send that fails (no such
 * socket, no JNA native for this platform, not Linux) is logged once at WARNING and returns
 * {@code false}: readiness reporting never stops the agent. Thread-safe: each send opens,
 * uses and closes its own socket.
 */
public final class SystemdNotify {
    /** The environment variable that names the notification socket ({@code sd_notify(3)}). */
    public static final String NOTIFY_SOCKET = "NOTIFY_SOCKET";
    private static final System.Logger LOG = System.getLogger(SystemdNotify.class.getName());
    /** {@code sizeof(sockaddr_un.sun_path)} on Linux. */
    private static final int SUN_PATH_BYTES = 108;

    private final Optional<String> socket;
    private final AtomicBoolean warned = new AtomicBoolean();

    private SystemdNotify(Optional<String> socket) {
        this.socket = socket;
    }

    /** The notifier for this process: towards {@value #NOTIFY_SOCKET} when set and not blank, else one that does nothing. */
    public static SystemdNotify fromEnvironment() {
        return toSocket(System.getenv(NOTIFY_SOCKET));
    }

    /**
     * A notifier towards {@code address}: a socket file path, or {@code @name} for an abstract
     * socket; {@code null} or blank gives one that does nothing.
     */
    public static SystemdNotify toSocket(String address) {
        return new SystemdNotify(Optional.ofNullable(address).filter(a -> !a.isBlank()));
    }

    /** Whether a notification socket is configured (not whether the last send reached it). */
    public boolean enabled() {
        return socket.isPresent();
    }

    /** {@code READY=1} with a status line: the agent serves. Returns whether the datagram was sent. */
    public boolean ready(String status) {
        return send("READY=1\nSTATUS=" + oneLine(status));
    }

    /** {@code STATUS=...}: a line that {@code systemctl status} shows. Returns whether the datagram was sent. */
    public boolean status(String status) {
        return send("STATUS=" + oneLine(status));
    }

    /** {@code STOPPING=1} with a status line: the agent has begun to shut down. Returns whether the datagram was sent. */
    public boolean stopping(String status) {
        return send("STOPPING=1\nSTATUS=" + oneLine(status));
    }

    private static String oneLine(String status) {
        return status.replace('\n', ' ').replace('\r', ' ');
    }

    boolean send(String state) {
        if (socket.isEmpty()) {
            return false;
        }
        try {
            LibC.send(socket.get(), state.getBytes(StandardCharsets.UTF_8));
            return true;
        } catch (LastErrorException e) {
            warnOnce("cannot notify " + NOTIFY_SOCKET + "=" + socket.get() + ": errno " + e.getErrorCode(), e);
        } catch (RuntimeException | LinkageError e) { // no JNA native for this platform, not Linux, bad address
            warnOnce("cannot notify " + NOTIFY_SOCKET + "=" + socket.get() + ": " + e, e);
        }
        return false;
    }

    private void warnOnce(String message, Throwable e) {
        if (warned.compareAndSet(false, true)) {
            LOG.log(System.Logger.Level.WARNING, message + " (the service manager is not told the agent's state)");
        } else {
            LOG.log(System.Logger.Level.DEBUG, message, e);
        }
    }

    /**
     * {@code struct sockaddr_un} for {@code address}, and its length as {@code sd_notify} computes
     * it: a path counts its terminating NUL, an abstract name (leading {@code @} becomes NUL) does not.
     */
    static byte[] sockaddr(String address) {
        byte[] path = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = path.length > 0 && path[0] == '@';
        if (path.length == 0 || path[0] != '/' && !abstractName) {
            throw new IllegalArgumentException("not a socket path nor an @abstract name: " + address);
        }
        if (path.length + (abstractName ? 0 : 1) > SUN_PATH_BYTES) {
            throw new IllegalArgumentException("socket address longer than " + SUN_PATH_BYTES + " bytes: " + address);
        }
        if (abstractName) {
            path[0] = 0;
        }
        ByteBuffer addr = ByteBuffer.allocate(2 + path.length + (abstractName ? 0 : 1)).order(ByteOrder.nativeOrder());
        addr.putShort(LibC.AF_UNIX).put(path);
        return addr.array();
    }

    /** The libc calls, loaded on first use. Linux values: {@code SOCK_DGRAM} is 2 on every architecture we ship for. */
    private interface LibC extends Library {
        short AF_UNIX = 1;
        int SOCK_DGRAM = 2;
        int SOCK_CLOEXEC = 0x80000;
        int MSG_NOSIGNAL = 0x4000;

        int socket(int domain, int type, int protocol) throws LastErrorException;

        NativeLong sendto(int fd, byte[] buf, NativeLong len, int flags, byte[] addr, int addrlen) throws LastErrorException;

        int close(int fd) throws LastErrorException;

        static void send(String address, byte[] message) {
            if (!Platform.isLinux()) {
                throw new UnsupportedOperationException("sd_notify needs Linux, this is " + System.getProperty("os.name"));
            }
            byte[] addr = sockaddr(address);
            LibC c = Holder.LIBC;
            int fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            try {
                c.sendto(fd, message, new NativeLong(message.length), MSG_NOSIGNAL, addr, addr.length);
            } finally {
                c.close(fd);
            }
        }
    }

    /** Loads libc once, on the first send. */
    private static final class Holder {
        static final LibC LIBC = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
    }
}
