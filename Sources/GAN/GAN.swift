// GAN
