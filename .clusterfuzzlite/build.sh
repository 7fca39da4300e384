#!/bin/bash -eu
# ClusterFuzzLite and OSS-Fuzz run this inside the builder image with $SRC/edgecase checked out;
# fuzz/build.sh does the work (and runs the same way outside docker).
exec bash "$SRC/edgecase/fuzz/build.sh"
