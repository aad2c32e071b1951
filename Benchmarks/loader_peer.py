"""Peer of `vlp-bench loader`: PyTorch's DataLoader with PIL + torchvision transforms.

Reads the JPEG paths listed in FILE_LIST (one a line) and, per image, does what the Swift
loader does: decode (PIL, .convert("RGB")), RandomResizedCrop(224) (bilinear), random
horizontal flip, ToTensor + Normalize (ImageNet statistics); batches of BATCH with WORKERS
worker processes. Runs one warm-up epoch, then EPOCHS timed epochs.

Prints one JSON object: images, per-epoch seconds, and the peak memory of the main process
plus its workers, sampled every 20 ms from /proc (sum of RSS, and sum of PSS, which counts
pages shared between the forked workers once).

Usage: /usr/bin/python3 Benchmarks/loader_peer.py FILE_LIST BATCH WORKERS EPOCHS
"""
import json
import os
import sys
import threading
import time

import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms


class Files(Dataset):
    def __init__(self, paths, transform):
        self.paths = paths
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        with Image.open(self.paths[index]) as image:
            return self.transform(image.convert("RGB"))


def memory_of(pid):
    """(rss, pss) in bytes of one process, or (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, pss


def children(pid):
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return found


class PeakMemory(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak_rss = self.peak_pss = 0
        self.running = True

    def run(self):
        me = os.getpid()
        while self.running:
            totals = [memory_of(p) for p in [me] + children(me)]
            self.peak_rss = max(self.peak_rss, sum(t[0] for t in totals))
            self.peak_pss = max(self.peak_pss, sum(t[1] for t in totals))
            time.sleep(0.02)


def main():
    file_list, batch, workers, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with open(file_list) as f:
        paths = [line.strip() for line in f if line.strip()]
    transform = transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    torch.manual_seed(0)
    loader = DataLoader(Files(paths, transform), batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0, drop_last=False)
    memory = PeakMemory()
    memory.start()
    seconds = []
    images = 0
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        count = 0
        checksum = 0.0
        for batch_tensor in loader:
            count += batch_tensor.shape[0]
            checksum += float(batch_tensor[0, 0, 0, 0])
        elapsed = time.perf_counter() - start
        if epoch > 0:                      # epoch 0 warms up (worker start, page cache)
            seconds.append(elapsed)
            images = count
    memory.running = False
    memory.join()
    print(json.dumps({
        "images": images, "seconds": seconds, "workers": workers, "batch": batch,
        "peak_rss_bytes": memory.peak_rss, "peak_pss_bytes": memory.peak_pss,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
