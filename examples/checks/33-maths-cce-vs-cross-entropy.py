# loss-functions-maths, "Categorical Cross Entropy (ie. Negative Log-Likelihood + Log Softmax)" (NumPy), then
# what PyTorch calls cross entropy on the same numbers
y_pred = np.array([0.1880, 0.4137, 0.2285])
y_true = np.array([0.0, 1.0, 0.0])
def CCE(y_pred, y_true):
    total_cce_loss = np.sum(-y_true * np.log(y_pred) - (1 - y_true) * np.log(1 - y_pred))
    # Get the mean CCE loss
    num_of_samples = y_pred.shape[0]
    mean_cce_loss = total_cce_loss / num_of_samples
    
    return mean_cce_loss
cce_value = CCE(y_pred, y_true)

scores = torch.from_numpy(y_pred)
label = torch.tensor(1)
