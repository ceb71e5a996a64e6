# multiprocessing.Pool(4).map.
import multiprocessing


def square(x):
    return x * x


if __name__ == "__main__":
    with multiprocessing.Pool(4) as p:
        r = p.map(square, range(1000))
    print(len(r), sum(r))
    with multiprocessing.Pool(4) as p:
        print(sorted(p.imap_unordered(square, range(10))))
