package io.kvx.proxy.userspace;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.channel.unix.Socket;
import io.netty.util.concurrent.FastThreadLocal;

import java.io.IOException;

/**
 * Relays an established client/backend pair straight on the event loop's epoll set, without a Netty
 * pipeline: once both connections are up, their channels are deregistered and each socket is
 * registered again as a bare {@link EpollIoHandle}. Per message that leaves one recv into the loop's
 * scratch buffer and one send to the peer (nginx's stream proxy makes the same two calls), without
 * per-message buffers, outbound queues, promises or handler calls.
 * <p>
 * Level-triggered, as Netty's own sockets: a side is read while its peer has nothing pending. A send
 * that takes only part of a message keeps the rest in a buffer of the peer's, stops reading this side
 * and waits for the peer to become writable (back-pressure, as the pipeline relay's autoRead). End of
 * input on one side shuts the other side's output once its pending bytes are written (half-close
 * passes through); a socket closes once both its directions are done. A hang-up (the other end closed
 * after this side's output was shut) hands what is left to read to the peer and closes the socket; an
 * error (reset) closes both.
 */
final class EpollRelay {

  private static final int SCRATCH_BYTES = 64 * 1024;
  private static final EpollIoOps READ = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLRDHUP);
  private static final int EPOLLHUP = 0x010;

  /** One read buffer per event-loop thread: a message is sent on before the next is read. */
  private static final FastThreadLocal<ByteBuf> SCRATCH = new FastThreadLocal<>() {
    @Override
    protected ByteBuf initialValue() {
      return PooledByteBufAllocator.DEFAULT.directBuffer(SCRATCH_BYTES, SCRATCH_BYTES);
    }

    @Override
    protected void onRemoval(ByteBuf value) {
      value.release();
    }
  };

  private EpollRelay() {
  }

  /** Both channels native epoll sockets on one epoll event loop, with raw memory access. */
  static boolean usable(Channel in, Channel out) {
    return in instanceof EpollSocketChannel && out instanceof EpollSocketChannel
        && in.eventLoop() == out.eventLoop() && in.eventLoop() instanceof IoEventLoop
        && in.eventLoop().inEventLoop() && SCRATCH.get().hasMemoryAddress();
  }

  /**
   * Takes over both connected sockets (neither has read anything yet: autoRead is off). Called on
   * their event loop.
   */
  static void start(Channel in, Channel out) {
    ByteBuf scratch = SCRATCH.get(); // both sides stay on this loop
    RelaySide.start(in, out, new Side((Socket) ((EpollSocketChannel) in).fd(), scratch),
        new Side((Socket) ((EpollSocketChannel) out).fd(), scratch));
  }

  /** One socket of the pair. */
  private static final class Side extends RelaySide<Side> implements EpollIoHandle {
    /** The loop's read buffer and its address. */
    final ByteBuf scratch;
    final long scratchAddress;
    /** Bytes read from the peer that this socket has not taken yet. */
    ByteBuf pending;
    EpollIoOps ops = READ;

    Side(Socket socket, ByteBuf scratch) {
      super(socket);
      this.scratch = scratch;
      this.scratchAddress = scratch.memoryAddress();
    }

    @Override
    public FileDescriptor fd() {
      return socket;
    }

    @Override
    void startRelaying() {
      registration.submit(ops);
    }

    private void interest(EpollIoOps wanted) {
      if (wanted.equals(ops)) return;
      ops = wanted;
      if (registration != null) registration.submit(wanted);
    }

    @Override
    public void handle(IoRegistration reg, IoEvent event) {
      if (closed) return;
      if (registration == null) registration = reg; // an event before the register listener ran
      EpollIoOps ready = ((EpollIoEvent) event).ops();
      try {
        if (ready.contains(EpollIoOps.EPOLLERR)) {
          closePair(); // reset: the other side gets a close, as the peer would have seen the reset
          return;
        }
        if (ready.contains(EpollIoOps.EPOLLOUT)) writePending();
        if ((ready.value() & EPOLLHUP) != 0) {
          hungUp();
        } else if ((ready.contains(EpollIoOps.EPOLLIN) || ready.contains(EpollIoOps.EPOLLRDHUP)) && !inputEnded
            && peer.pending == null) {
          read();
        }
      } catch (IOException | RuntimeException e) {
        // reset, broken pipe, a peer no longer connected (Netty throws NotYetConnectedException for
        // ENOTCONN): the pair is over. Nothing may escape to the loop, which would pause for a second.
        closePair();
      }
    }

    private void read() throws IOException {
      int n = socket.recvAddress(scratchAddress, 0, SCRATCH_BYTES);
      if (n > 0) {
        forward(n);
      } else if (n < 0) {
        inputEnded = true;
        interest(ops.without(READ));
        peer.settle();
        settle();
      }
    }

    /** Sends n bytes of scratch to the peer; what it cannot take now waits there, and this side stops reading. */
    private void forward(int n) throws IOException {
      if (peer.closed) {
        // the peer hung up: nothing read here can go anywhere; stop reading, finish writing here
        inputEnded = true;
        interest(ops.without(READ));
        settle();
        return;
      }
      int sent = peer.pending == null ? peer.socket.sendAddress(scratchAddress, 0, n) : 0;
      if (sent == n) return;
      if (peer.pending == null) peer.pending = PooledByteBufAllocator.DEFAULT.directBuffer(n - sent);
      peer.pending.writeBytes(scratch, sent, n - sent);
      interest(ops.without(READ));
      peer.interest(peer.ops.with(EpollIoOps.EPOLLOUT));
    }

    /**
     * Both directions of this socket are over (the other end closed after this side shut its output,
     * or reset): what is still queued to read goes to the peer, then this socket closes.
     */
    private void hungUp() throws IOException {
      while (!inputEnded && !peer.closed) {
        int n = socket.recvAddress(scratchAddress, 0, SCRATCH_BYTES);
        if (n <= 0) break;
        forward(n);
      }
      inputEnded = true;
      closeSide();
      peer.settle();
    }

    /** Writes what the peer read and this socket could not take; then the peer may read again. */
    private void writePending() throws IOException {
      ByteBuf p = pending;
      if (p != null) {
        int sent = socket.sendAddress(p.memoryAddress(), p.readerIndex(), p.writerIndex());
        p.skipBytes(sent);
        if (p.isReadable()) return;
        p.release();
        pending = null;
      }
      interest(ops.without(EpollIoOps.EPOLLOUT));
      if (!peer.closed && !peer.inputEnded) peer.interest(peer.ops.with(READ));
      settle();
    }

    @Override
    boolean writing() {
      return pending != null;
    }

    @Override
    void closeSide() {
      if (closed) return;
      closed = true;
      if (pending != null) {
        pending.release();
        pending = null;
      }
      if (registration != null) registration.cancel();
      try {
        socket.close();
      } catch (IOException ignored) {
        // already gone
      }
    }

    @Override
    public void close() {
      closePair(); // the event loop is shutting down
    }
  }
}
