"""Scene data, scene nets and scene metrics on real CamVid images and hand-made cases."""
import json
import os

import pytest
import torch
import torch.nn.functional as F

from training import export, train
from training.data.scenes import DenseCrops, SceneSet, centre_labels
from training.scene_metrics import cell_interpolation, confusion, evaluate_scenes, scores
from training.scene_nets import SceneNet

CAMVID = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'data', 'camvid')
MSRC21 = os.path.join(CAMVID, '..', 'msrc21')
needs_camvid = pytest.mark.skipif(not os.path.isdir(CAMVID), reason='CamVid copy not in ../shared/data')


def tiny_net(num_classes=11):
    return SceneNet([([3], 4), ([3], 6)], hidden=8, num_classes=num_classes, last_map=2)


@pytest.fixture(scope='module')
def camvid():
    return SceneSet(CAMVID, 'train', limit=3)


@needs_camvid
def test_loader_reads_images_labels_and_void_from_classes_json(camvid):
    assert len(camvid) == 3 and camvid.num_classes == 11 and camvid.ignore == 11
    assert camvid.names[:2] == ['sky', 'building'] and camvid.colors[0] == [128, 128, 128]
    assert camvid.images[0].shape == (3, 360, 480) and camvid.images[0].dtype == torch.uint8
    labels = torch.stack(camvid.labels)
    void = int((labels == 11).sum())
    assert void > 0, 'these images have void pixels'
    assert int(camvid.class_pixels().sum()) == labels.numel() - void


@pytest.mark.skipif(not os.path.isdir(MSRC21), reason='MSRC-21 copy not in ../shared/data')
def test_msrc21_split_comes_from_splits_json_with_255_as_void():
    data = SceneSet(MSRC21, 'test', limit=2)
    assert data.num_classes == 23 and data.ignore == 255
    assert data.files == ['10_12_s.jpg', '10_13_s.jpg'], 'the first two test names of splits.json'
    for image, label in zip(data.images, data.labels):
        assert image.shape[1:] == label.shape and sorted(label.shape) == [213, 320]
        assert set(label.unique().tolist()) <= set(range(23)) | {255}


def test_missing_data_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='scene data folder not found'):
        SceneSet(str(tmp_path / 'nowhere'), 'train')


@needs_camvid
def test_crop_labels_are_the_window_centre_pixels(camvid):
    net = tiny_net()
    crops = DenseCrops(camvid, (net.window, net.stride), short_side=360, crop=(net.window + 4 * net.stride,) * 2,
                       mean=[0.5] * 3, std=[0.25] * 3, batch_size=1, scale_range=(1, 1), flip=False, seed=3)
    image, cells = crops.sample(1)
    assert cells.shape == (5, 5)
    # at full resolution the crop is a window of the padded image: find it and read the centres directly
    pad = net.window // 2
    padded = F.pad(camvid.images[1][None].float(), (pad,) * 4, mode='replicate')[0]
    restored = image * 0.25 * 255 + 0.5 * 255
    rows, cols = padded.shape[1] - image.shape[1] + 1, padded.shape[2] - image.shape[2] + 1
    corner = (padded[:, :rows, :cols] - restored[:, :1, :1]).abs().amax(0) < 0.01
    found = [(y, x) for y, x in corner.nonzero().tolist()
             if torch.allclose(padded[:, y:y + image.shape[1], x:x + image.shape[2]], restored, atol=0.01)]
    assert found, 'the crop comes from the padded image'
    y0, x0 = found[0]
    for i in range(5):
        for j in range(5):
            row, col = y0 - pad + net.window // 2 + i * net.stride, x0 - pad + net.window // 2 + j * net.stride
            inside = 0 <= row < 360 and 0 <= col < 480
            assert cells[i, j] == (camvid.labels[1][row, col] if inside else camvid.ignore)


def test_centre_labels_outside_the_image_are_void():
    label = torch.tensor([[0, 1], [2, 3]], dtype=torch.uint8)
    picked = centre_labels(label, torch.tensor([-0.5, 0.5, 1.5]), torch.tensor([1.2, 2.0]), ignore=9)
    assert picked.tolist() == [[9, 9], [1, 9], [3, 9]]


def test_metrics_on_a_hand_made_confusion():
    label = torch.tensor([[0, 0, 0, 1], [1, 2, 2, 5]])
    prediction = torch.tensor([[0, 0, 1, 1], [0, 2, 2, 0]])
    matrix = confusion(prediction, label, num_classes=3, ignore=5)
    assert matrix.tolist() == [[2, 1, 0], [1, 1, 0], [0, 0, 2]]
    result = scores(matrix)
    assert result['globalAccuracy'] == pytest.approx(5 / 7)
    assert result['classAverage'] == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert result['meanIoU'] == pytest.approx((2 / 4 + 1 / 3 + 1) / 3)


def test_interpolation_puts_cell_values_at_their_centres_and_clamps_the_borders():
    weights = cell_interpolation(cells=3, stride=2, window=4, pad=2, scaled_side=4, original_side=8)
    assert torch.allclose(weights.sum(1), torch.ones(8))
    # cell centres sit at original pixels 0, 4 and 8 (scale 2): pixel centre 0.5 is 1/8 of the way to the next
    assert weights[0].tolist() == pytest.approx([0.875, 0.125, 0])
    assert weights[7].tolist() == pytest.approx([0, 0.125, 0.875])


def test_dense_cells_equal_the_window_classifier():
    torch.manual_seed(0)
    net = tiny_net().eval()
    image = torch.randn(1, 3, net.window + 3 * net.stride, net.window + 2 * net.stride)
    dense = net.dense(image)
    assert dense.shape == (1, 11, 4, 3)
    for i, j in [(0, 0), (3, 2), (1, 2)]:
        y, x = i * net.stride, j * net.stride
        cell = net(image[:, :, y:y + net.window, x:x + net.window])
        assert torch.allclose(dense[0, :, i, j], cell[0], atol=1e-5)


@needs_camvid
def test_dense_training_step_on_a_crop_lowers_the_loss_and_metrics_run(camvid):
    torch.manual_seed(0)
    net = tiny_net()
    crops = DenseCrops(camvid, (net.window, net.stride), short_side=45, crop=(net.window + 7 * net.stride,) * 2,
                       mean=[0.4] * 3, std=[0.3] * 3, batch_size=2)
    images, cells = crops.batch()
    assert cells.shape == (2, 8, 8) and net.dense(images).shape == (2, 11, 8, 8)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.eval()  # no dropout, so the loss before and after the steps is comparable
    losses = []
    for _ in range(5):
        loss = F.cross_entropy(net.dense(images), cells.long(), ignore_index=camvid.ignore)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    metrics, per_class = evaluate_scenes(net, camvid, 45, [0.4] * 3, [0.3] * 3)
    assert 0 <= metrics['meanIoU'] <= metrics['globalAccuracy'] <= 1 and len(per_class) == 11


@needs_camvid
def test_camvid_recipe_dry_run_exports_a_scene_model_card(tmp_path):
    run = tmp_path / 'run'
    train.run(['--recipe', 'camvid', '--data', CAMVID, '--epochs', '1', '--limit', '8', '--dry-run', '--out', str(run)])
    export.run([str(run / 'checkpoint.pt'), '--out', str(tmp_path / 'model')])
    card = json.loads((tmp_path / 'model' / 'card.json').read_text())
    assert card['tasks'] == ['parse', 'tag']
    assert card['geometry'] == {'window': 68, 'stride': 8, 'offset': 0, 'exact': True}
    assert set(card['metrics']['test']) == {'globalAccuracy', 'classAverage', 'meanIoU'}
    assert [label['name'] for label in card['labels']][:3] == ['sky', 'building', 'pole']
    assert all(len(label['color']) == 3 for label in card['labels'])
