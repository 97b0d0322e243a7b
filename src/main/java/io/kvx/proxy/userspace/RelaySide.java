package io.kvx.proxy.userspace;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoHandle;
import io.netty.channel.IoRegistration;
import io.netty.channel.unix.Socket;

import java.io.IOException;

/**
 * One socket of a pair relayed as bare sockets ({@link EpollRelay}, {@link IoUringRelay}): the half-close
 * bookkeeping both transports share. End of input on one side shuts the other side's output once what it
 * was sent is written, so a half-close passes through; a socket closes once both its directions are done.
 */
abstract class RelaySide<S extends RelaySide<S>> implements IoHandle {

  final Socket socket;
  S peer;
  /** This socket's input has ended. */
  boolean inputEnded;
  /** This socket's output is shut (everything the peer sent has been written). */
  boolean outputShut;
  boolean closed;
  /** This socket's registration on the loop, once it is there. */
  IoRegistration registration;

  RelaySide(Socket socket) {
    this.socket = socket;
  }

  /**
   * Takes over a connected pair (neither channel has read anything yet: autoRead is off), on their event
   * loop: both channels leave it, then both sockets are registered again as bare handles.
   */
  static <S extends RelaySide<S>> void start(Channel in, Channel out, S client, S backend) {
    client.peer = backend;
    backend.peer = client;
    IoEventLoop loop = (IoEventLoop) in.eventLoop();
    ChannelFuture first = in.deregister();
    out.deregister().addListener(f -> {
      if (!first.isSuccess() || !f.isSuccess()) {
        client.handOverFailed();
        return;
      }
      client.register(loop);
      backend.register(loop);
    });
  }

  /**
   * Registers this socket on the loop as a bare handle, then {@link #startRelaying} starts reading it; a side closed
   * before its registration came cancels it.
   */
  final void register(IoEventLoop loop) {
    if (closed) {
      notRegistered();
      return;
    }
    loop.register(this).addListener(f -> {
      if (!f.isSuccess()) {
        closePair();
        notRegistered();
        return;
      }
      registration = (IoRegistration) f.getNow();
      if (closed) {
        registration.cancel();
        return;
      }
      startRelaying();
    });
  }

  /** Registered and still open: the transport starts reading this socket. */
  abstract void startRelaying();

  /** The loop will never hold this socket (it closed first, or registering failed). */
  void notRegistered() {
  }

  /** The channels could not be left: both sockets close. */
  void handOverFailed() {
    closePair();
  }

  /** Bytes the peer read are still to be written on this socket. */
  abstract boolean writing();

  /** Closes this socket and lets go of what it holds (idempotent: {@link #closed} is set first). */
  abstract void closeSide();

  /**
   * Once everything the peer sent has been written here: this socket's output is shut when the
   * peer's input has ended, and the socket closes when its own input has ended too (or the peer is
   * gone, so nothing it sends could go anywhere).
   */
  final void settle() throws IOException {
    if (closed || writing()) return;
    if (!outputShut && (peer.inputEnded || peer.closed)) {
      outputShut = true;
      socket.shutdown(false, true);
    }
    if (outputShut && (inputEnded || peer.closed)) closeSide();
  }

  final void closePair() {
    closeSide();
    peer.closeSide();
  }
}
