#!/usr/bin/python3
"""GStreamer's RTSP server as a test peer.

usage: gst_rtsp_server.py PORT MOUNT=FILE [MOUNT=FILE ...]

Serves each raw H.264 (.h264) or H.265 (.h265) elementary stream FILE in a
loop at rtsp://127.0.0.1:PORT/MOUNT, over UDP and TCP. Prints READY once
listening. From a raw stream the parser sets only DTS, so a probe on the
payloader's sink pad copies DTS into PTS (see the shared PEERS.md).
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def dts_to_pts(pad, info):
    buf = info.get_buffer()
    if buf is not None and buf.dts != Gst.CLOCK_TIME_NONE:
        buf.pts = buf.dts
    return Gst.PadProbeReturn.OK


def on_configure(factory, media):
    pay = media.get_element().get_by_name("pay0")
    pay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, dts_to_pts)


def main():
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(sys.argv[1])
    mounts = server.get_mount_points()
    for arg in sys.argv[2:]:
        mount, path = arg.split("=", 1)
        codec = "h265" if path.endswith(".h265") else "h264"
        launch = (
            f"( multifilesrc location={path} loop=true ! {codec}parse ! "
            f"rtp{codec}pay name=pay0 pt=96 config-interval=-1 )"
        )
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        factory.connect("media-configure", on_configure)
        mounts.add_factory("/" + mount, factory)
    server.attach(None)
    print("READY", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
